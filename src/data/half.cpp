#include "data/half.h"

#include <cstring>

namespace advad {

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xFFu;
  uint32_t mant = x & 0x7FFFFFu;
  if (exp == 0xFF) return static_cast<uint16_t>(sign | 0x7C00u | (mant ? 0x200u | (mant >> 13) : 0u));
  const int e = static_cast<int>(exp) - 127 + 15;  // rebiased exponent
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7C00u);  // overflow -> inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand into place.
    if (e < -10) return static_cast<uint16_t>(sign);  // below half the smallest subnormal -> 0
    mant |= 0x800000u;
    const int shift = 14 - e;  // 24-bit significand -> 10-bit subnormal field
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half_way = 1u << (shift - 1);
    if (rem > half_way || (rem == half_way && (h & 1u))) ++h;  // may carry into the exponent: fine
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry may round up to inf: correct
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t x;
  if (exp == 0x1F) {
    x = sign | 0x7F800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
    }
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

cv::Mat to_half_bits(const cv::Mat& map32) {
  CV_Assert(map32.type() == CV_32FC1);
  cv::Mat out(map32.size(), CV_16UC1);
  for (int y = 0; y < map32.rows; ++y) {
    const float* s = map32.ptr<float>(y);
    uint16_t* d = out.ptr<uint16_t>(y);
    for (int x = 0; x < map32.cols; ++x) d[x] = float_to_half(s[x]);
  }
  return out;
}

cv::Mat from_half_bits(const cv::Mat& bits16) {
  CV_Assert(bits16.type() == CV_16UC1);
  cv::Mat out(bits16.size(), CV_32FC1);
  for (int y = 0; y < bits16.rows; ++y) {
    const uint16_t* s = bits16.ptr<uint16_t>(y);
    float* d = out.ptr<float>(y);
    for (int x = 0; x < bits16.cols; ++x) d[x] = half_to_float(s[x]);
  }
  return out;
}

cv::Mat quantize_to_half(const cv::Mat& map32) { return from_half_bits(to_half_bits(map32)); }

}  // namespace advad
