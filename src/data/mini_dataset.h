// Miniature datasets in the MVTec AD 2 or MVTec AD (v1) layout, for tests and
// demos: a regular texture, defects planted only in test images, real PNG
// masks. Everything is deterministic in the seed.
#pragma once
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace advad {

struct MiniDatasetSpec {
  DatasetLayout layout = DatasetLayout::MvtecAD2;
  std::string category = "mini";
  int n_train = 4;       // train/good
  int n_validation = 2;  // validation/good (MVTec AD 2 only)
  int n_test_good = 2;   // test_public/good (AD 2) or test/good (AD v1)
  int n_test_bad = 3;    // test_public/bad + masks (AD 2); spread over test/blob and test/scratch (AD v1)
  int n_private = 2;     // images in each of test_private and test_private_mixed (AD 2; every 2nd has a defect, no masks)
  int width = 96, height = 64;
  uint32_t seed = 1;
  bool gray = false;     // single-channel PNGs (like sheet_metal, vial, wallplugs)
};

// Writes <root>/<category>/... and returns that category folder. Existing
// files are overwritten. Names follow the real datasets:
//  AD 2: NNN_<cond>.png with cond cycling regular, overexposed, underexposed,
//        shift_1 (over/underexposed images are brighter/darker); good and bad
//        test_public images share stems on purpose (000_regular in both);
//        masks test_public/ground_truth/bad/NNN_<cond>_mask.png (0/255);
//        test_private/NNN_regular.png, test_private_mixed/NNN_mixed.png.
//  AD v1: NNN.png; defects "blob" and "scratch"; ground_truth/<defect>/NNN_mask.png.
// InputError when the root cannot be written or the size is below 16x16.
std::string write_mini_dataset(const std::string& root, const MiniDatasetSpec& spec);

// Shorthand with the most used fields.
std::string write_mini_dataset(const std::string& root, DatasetLayout layout, const std::string& category, int n_train,
                               int n_test_good, int n_test_bad, int width, int height, uint32_t seed);

}  // namespace advad
