// Helpers of the CPR synthesis tests (test_cpr_synth_*.cpp): generated
// source images.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace cprsynth {

// A smooth, structured BGR image (gradients + a disc), so every synthetic change is visible.
inline cv::Mat smooth_image(int size, int variant = 0) {
  cv::Mat img(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(60 + x * 100 / size), static_cast<uint8_t>(80 + y * 80 / size),
                                          static_cast<uint8_t>(120 + variant * 20));
  cv::circle(img, {size / 2, size / 2}, size / 4, cv::Scalar(30, 160, 90), cv::FILLED);
  return img;
}

inline cv::Mat noise_texture(int size, uint64_t seed) {
  cv::Mat t(size, size, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(t, cv::RNG::UNIFORM, 0, 256);
  return t;
}

}  // namespace cprsynth
