// A miniature MVTec AD 2: all eight categories drawn with OpenCV in the real
// folder layout (train/good, validation/good, test_public/{good,bad,
// ground_truth/bad}, test_private, test_private_mixed), scaled down, with
// planted category-like defects and exact 0/255 masks. Deterministic in the
// seed. Masks of the private splits (absent from a real dataset) go to
// <root>/_private_ground_truth/<category>/<split>/NNN_<cond>_mask.png, one
// per defective image (no file = good, as the official evaluation reads it).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace advad {

struct SynthAd2Spec {
  std::vector<std::string> categories;  // empty = all eight
  uint32_t seed = 0;
  int long_side = 256;       // longer image side in pixels; the other keeps the real aspect
  int n_train = 10;          // train/good
  int n_validation = 6;      // validation/good
  int n_test_good = 4;       // test_public/good
  int n_test_bad = 6;        // test_public/bad (+ masks)
  int n_private = 6;         // test_private and test_private_mixed each; about half defective
  bool overwrite = false;    // replace an existing non-empty category folder
  bool contact_sheets = true;  // <root>/<category>_contact_sheet.png
  // Called after each written image (category, images done, images total).
  std::function<void(const std::string&, int, int)> progress;
};

struct SynthAd2Category {
  std::string name;
  std::string folder;               // <root>/<name>
  std::string private_ground_truth; // <root>/_private_ground_truth/<name>
  std::string contact_sheet;        // "" when not written
  int width = 0, height = 0;
  bool gray = false;
  int n_train = 0, n_validation = 0, n_test_good = 0, n_test_bad = 0;
  int n_private = 0, n_private_bad = 0;  // per private split (both splits show the same scenes)
};

struct SynthAd2Result {
  std::string root;
  std::vector<SynthAd2Category> categories;
};

// The eight category names in MVTec AD 2 order.
const std::vector<std::string>& synthetic_ad2_categories();

// Image size (w, h) of a category at `long_side`: the real aspect, each side
// rounded to a multiple of the category's seed tiling grid so tiles split evenly.
// InputError for an unknown category.
std::pair<int, int> synthetic_ad2_size(const std::string& category, int long_side);

// The shorter side of the smallest tile under the category's seed profile
// tiling (models/mvtec_ad2/<category>.ini [tiling] levels) at `long_side`.
int synthetic_ad2_min_tile(const std::string& category, int long_side);

// Writes the dataset under root. InputError for an unknown category, counts
// below their minimum (train/validation/test_bad/private >= 1, test_good >= 0),
// long_side outside [64, 4096], or (without overwrite) a non-empty category folder.
SynthAd2Result write_synthetic_mvtec_ad2(const std::string& root, const SynthAd2Spec& spec);

}  // namespace advad
