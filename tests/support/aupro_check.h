// The localisation check of the training tests: a trained package's AU-PRO@0.3
// over a generated category next to a uniform random map's.
#pragma once
#include <string>
#include <vector>

namespace advad::test {

struct AuProVsChance {
  double trained = 0;  // AU-PRO@0.3 of the package's maps
  double chance = 0;   // AU-PRO@0.3 of uniform random maps (RNG seed 5), same masks
  int defective = 0;   // test images with a ground-truth mask
};

// Scores every image of <category_dir>/test/{good,blob,scratch} (a category
// written by write_mini_dataset, files in name order) with the package whose
// profile is `package_profile` on the CPU, and evaluates the maps against the
// ground-truth masks as object `object` (a missing mask fails the test).
AuProVsChance aupro_vs_random_map(const std::string& package_profile, const std::string& category_dir,
                                  const std::string& object);

// The same images scored at one precision, and the package's own decisions
// (its threshold and post-processing): what a precision change costs.
struct PackageScores {
  double au_pro_005 = 0, au_pro_03 = 0;  // AU-PRO@0.05 (the MVTec AD 2 metric) and @0.3
  double seg_f1 = 0, class_f1 = 0;       // from the post-processed masks
  std::vector<bool> verdicts;            // per image, in scoring order
};
PackageScores score_package(const std::string& package_profile, const std::string& category_dir,
                            const std::string& object, const std::string& precision);

}  // namespace advad::test
