// Synthetic images and defects: the texture of the miniature datasets, and
// the pseudo-anomalies `advad calibrate` pastes into defect-free images.
#pragma once
#include <opencv2/core.hpp>
#include <cstdint>

namespace advad {

// A regular woven texture (period ~12 px, +-8 gray levels) with mild noise and
// a seed-dependent phase: CV_8UC3 (RGB) or CV_8UC1 when gray.
cv::Mat make_regular_texture(int w, int h, uint32_t seed, bool gray = false);

enum class DefectShape { Blob, Scratch };

// Pastes a defect into `image` (8-bit, 1 or 3 channels, modified in place)
// and returns its mask (CV_8UC1, 0/255, image size, never empty).
//  Blob: a union of 1-3 random ellipses, 4-14 % of the shorter side, whose
//        pixels are shifted by +-(40..80) gray levels with a little noise.
//  Scratch: a 2-3 px wide random line, 25-60 % of the shorter side long.
// Shapes stay at least 2 px inside the image. Same seed, same defect.
cv::Mat plant_defect(cv::Mat& image, uint32_t seed, DefectShape shape = DefectShape::Blob);

}  // namespace advad
