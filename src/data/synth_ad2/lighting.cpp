#include "data/synth_ad2/lighting.h"

#include <cmath>

namespace advad::synth_ad2 {

Lighting named_lighting(const std::string& condition) {
  Lighting l;
  if (condition == "overexposed") {
    l.gain = {1.45, 1.45, 1.45};
    l.offset = 8;
  } else if (condition == "underexposed") {
    l.gain = {0.5, 0.5, 0.5};
  } else if (condition.rfind("shift_", 0) == 0) {
    const int n = std::atoi(condition.c_str() + 6);
    l.gradient = 55;
    l.angle = (20.0 + 110.0 * n) * CV_PI / 180.0;
    l.gain = n % 2 ? cv::Vec3d(1.1, 1.0, 0.85) : cv::Vec3d(0.88, 0.97, 1.12);
  }
  return l;
}

Lighting mixed_lighting(Rng& rng, int shifts) {
  Lighting l;
  switch (rng.range(0, 4)) {
    case 0: {  // seen: over/underexposed, random strength
      const double g = rng.chance(0.5) ? rng.uni(1.3, 1.6) : rng.uni(0.45, 0.65);
      l.gain = {g, g, g};
      break;
    }
    case 1:  // seen: one of the extra lights, random strength
      l = named_lighting("shift_" + std::to_string(rng.range(1, shifts)));
      l.gradient *= rng.uni(0.8, 1.3);
      break;
    case 2: {  // unseen: a strong colour cast with a brightness offset
      const double a = rng.uni(0.18, 0.3);
      const int k = rng.range(0, 2);
      l.gain = {1, 1, 1};
      l.gain[k] = 1 + a;
      l.gain[(k + 1) % 3] = 1 - a;
      l.offset = (rng.chance(0.5) ? 1 : -1) * rng.uni(12, 22);
      break;
    }
    case 3:  // unseen: a strong gradient from a random direction
      l.gradient = rng.uni(60, 100);
      l.angle = rng.uni(0, 2 * CV_PI);
      l.offset = -rng.uni(0, 15);
      break;
    default: {  // unseen: dim and tinted
      const double g = rng.uni(0.55, 0.7);
      l.gain = {g * 1.1, g, g * 0.85};
      break;
    }
  }
  return l;
}

cv::Mat apply_lighting(const cv::Mat& img, const Lighting& l) {
  const int w = img.cols, h = img.rows, ch = img.channels();
  const double ca = std::cos(l.angle), sa = std::sin(l.angle);
  // Projection onto the gradient direction, normalised to [0, 1] over the image.
  const double p0 = std::min(0.0, w * ca) + std::min(0.0, h * sa), p1 = std::max(0.0, w * ca) + std::max(0.0, h * sa);
  const double mean_gain = (l.gain[0] + l.gain[1] + l.gain[2]) / 3.0;
  cv::Mat out(img.size(), img.type());
  for (int y = 0; y < h; ++y) {
    const uchar* src = img.ptr<uchar>(y);
    uchar* dst = out.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) {
      const double t = p1 > p0 ? (x * ca + y * sa - p0) / (p1 - p0) : 0.0;
      const double add = l.offset + l.gradient * t;
      for (int c = 0; c < ch; ++c) {
        const double g = ch == 1 ? mean_gain : l.gain[c];
        dst[x * ch + c] = cv::saturate_cast<uchar>(src[x * ch + c] * g + add);
      }
    }
  }
  return out;
}

}  // namespace advad::synth_ad2
