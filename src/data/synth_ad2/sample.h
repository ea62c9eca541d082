// One synthetic MVTec AD 2 image: which scene, which lighting, which defect,
// derived from (seed, category, split, index) so every image can be rebuilt
// on its own (the writer and the tests use the same function).
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "data/synth_ad2/categories.h"

namespace advad::synth_ad2 {

enum class Split { Train, Validation, TestGood, TestBad, Private, PrivateMixed };

struct Sample {
  cv::Mat image;   // RGB or gray, as the category; lit
  cv::Mat clean;   // the same scene and lighting without the defect (== image when good)
  cv::Mat mask;    // 0/255, image size; all zero when good
  cv::Mat object;  // 0/255: the product (where defects may go)
  std::string condition;  // file-name condition: regular, overexposed, underexposed, shift_N, mixed
};

// Image size of a category at a long side (see synthetic_ad2_size).
cv::Size category_size(const CategoryDef& cat, int long_side);

// The test_public lighting condition of image `index` (cycles regular,
// overexposed, underexposed, shift_1..shift_k).
std::string public_condition(const CategoryDef& cat, int index);

// Which of the n private images carry a defect: (n + 1) / 2 of them, picked by the seed.
std::vector<bool> private_defects(const CategoryDef& cat, uint32_t seed, int n);

// test_private and test_private_mixed image i show the same scene (and defect);
// the mixed one is relit with a random seen or unseen lighting.
Sample render_sample(const CategoryDef& cat, cv::Size size, uint32_t seed, Split split, int index, bool defect);

}  // namespace advad::synth_ad2
