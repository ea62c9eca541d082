// IEEE 754 binary16 ("float16") conversions. The MVTec AD 2 server reads the
// anomaly maps as float16, so the evaluator and the submission writer quantise
// exactly as numpy's astype(float16) does: round to nearest, ties to even.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>

namespace advad {

uint16_t float_to_half(float f);   // round-to-nearest-even; overflow -> +-inf; NaN stays NaN
float half_to_float(uint16_t h);   // exact

// A key in [0, 65535] whose integer order equals the numeric order of the
// float16 values (-inf lowest, +inf highest); -0 and +0 share one key.
// NaN has no key: callers reject NaN before (see is_half_nan).
inline uint16_t half_order_key(uint16_t h) {
  if ((h & 0x7FFFu) == 0) h = 0;  // -0 == +0
  return (h & 0x8000u) ? static_cast<uint16_t>(0x7FFFu - (h & 0x7FFFu)) : static_cast<uint16_t>(h | 0x8000u);
}
// Inverse of half_order_key (for keys of non-NaN values).
inline uint16_t half_from_order_key(uint16_t k) {
  return (k & 0x8000u) ? static_cast<uint16_t>(k & 0x7FFFu) : static_cast<uint16_t>(0x8000u | (0x7FFFu - k));
}
inline bool is_half_nan(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0; }

// CV_32FC1 -> CV_16UC1 holding float16 bit patterns, and back.
cv::Mat to_half_bits(const cv::Mat& map32);
cv::Mat from_half_bits(const cv::Mat& bits16);
// Round a CV_32FC1 map to the nearest float16 values, kept as CV_32FC1.
cv::Mat quantize_to_half(const cv::Mat& map32);

}  // namespace advad
