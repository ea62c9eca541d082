// Dataset folders: MVTec AD 2 and MVTec AD (v1) layouts.
//
// MVTec AD 2 (<root>/<category>/...):
//   train/good, validation/good, test_public/{good,bad}, test_public/ground_truth/bad/<stem>_mask.png,
//   test_private/NNN_regular.png, test_private_mixed/NNN_mixed.png (flat, no labels).
//   Good and bad images share stems (test_public/good/000_regular.png and
//   test_public/bad/000_regular.png both exist): samples are keyed by `rel`,
//   their path relative to the dataset root, never by stem.
// MVTec AD v1 (<root>/<category>/...):
//   train/good, test/<defect or good>, ground_truth/<defect>/<stem>_mask.png.
#pragma once
#include <string>
#include <vector>

namespace advad {

enum class DatasetLayout { MvtecAD2, MvtecAD };
std::string to_string(DatasetLayout layout);  // "mvtec_ad2" | "mvtec_ad"

struct Sample {
  std::string image;  // path of the image file
  std::string mask;   // path of its ground-truth mask; "" when good or unlabelled
  // "<category>/<split>[/<sub>]/<stem>" relative to the dataset root, without
  // extension; output files are named after it (the official loader's rule).
  std::string rel;
  std::string defect;      // "good", "bad" (AD 2), the defect folder (AD v1); "" when unlabelled
  bool labelled = true;    // false for test_private / test_private_mixed
  bool anomalous = false;  // meaningful when labelled
};

struct SplitListing {
  std::string root, category, split;
  DatasetLayout layout = DatasetLayout::MvtecAD2;
  std::vector<Sample> samples;  // sorted by rel
  size_t count_anomalous() const;
  size_t count_labelled() const;
};

// Which layout <root>/<category> uses; InputError naming the folder and the
// expected sub-folders when it is neither.
DatasetLayout detect_layout(const std::string& root, const std::string& category);

// Category folders under root (those that contain a train/ folder), sorted.
std::vector<std::string> list_categories(const std::string& root);

// The split names of a layout, in their natural order.
std::vector<std::string> splits_of(DatasetLayout layout);

// All samples of one split. InputError for a missing root/category/split
// folder, an unknown split name (listing the valid ones), an empty split, or
// an anomalous image without its ground-truth mask.
SplitListing list_split(const std::string& root, const std::string& category, const std::string& split);

// True for the image file extensions (data/image_list.h: .png .jpg .jpeg .bmp .tif .tiff .webp, any case).
bool is_image_file(const std::string& path);

}  // namespace advad
