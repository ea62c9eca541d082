// Drawing helpers shared by the synthetic MVTec AD 2 categories: a portable
// seeded RNG, noise, smooth random fields, random shapes, and painting that
// changes pixels only inside a mask (so a defect's mask covers every change).
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <random>
#include <algorithm>
#include <vector>

namespace advad::synth_ad2 {

// mt19937 with our own conversions: the same numbers on every standard library.
class Rng {
 public:
  explicit Rng(uint32_t seed) : g_(seed) {}
  uint32_t next() { return static_cast<uint32_t>(g_()); }
  double uni(double lo = 0.0, double hi = 1.0) { return lo + (hi - lo) * (next() >> 8) * (1.0 / 16777216.0); }
  int range(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<uint32_t>(hi - lo + 1)); }  // inclusive
  bool chance(double p) { return uni() < p; }
  double sym(double a) { return uni(-a, a); }

 private:
  std::mt19937 g_;
};

// A seed mixed from several numbers (splitmix-style), for independent streams.
uint32_t mix_seed(std::initializer_list<uint32_t> parts);

// Gaussian noise of the given sigma added to an 8-bit image (any channels).
void add_noise(cv::Mat& img, uint32_t seed, double sigma);

// A smooth random CV_32FC1 field in [-1, 1] whose features are about `cell` px.
cv::Mat smooth_field(cv::Size size, Rng& rng, double cell);

// A filled irregular blob (random radii around an ellipse) as a 0/255 mask.
cv::Mat blob_mask(cv::Size size, cv::Point2d center, double rx, double ry, double angle_deg, Rng& rng,
                  double irregularity = 0.3);
// A jagged polyline from `a` heading `angle` (radians) for `length` px, `thickness` px wide.
cv::Mat crack_mask(cv::Size size, cv::Point2d a, double angle, double length, int thickness, Rng& rng,
                   double jitter = 0.35);

// A random pixel of `region` (0/255) at least `margin` px inside it; falls
// back to the region without the margin, then to the image centre.
cv::Point2d sample_point(const cv::Mat& region, Rng& rng, int margin);

// img = img * (1 - alpha) + colour * alpha, only where mask != 0.
void paint(cv::Mat& img, const cv::Mat& mask, const cv::Scalar& colour, double alpha = 1.0);
// img += delta * weight(x, y) where mask != 0; weight a CV_32F map (empty = 1).
void shade(cv::Mat& img, const cv::Mat& mask, double delta, const cv::Mat& weight = cv::Mat());
// A colour that stands out from the image's mean under the mask: dark on bright, bright on dark.
cv::Scalar contrast_colour(const cv::Mat& img, const cv::Mat& mask, double strength = 110.0);

// Points of a rotated rectangle (centre, half sizes, degrees), as polygon.
std::vector<cv::Point> rotated_rect(cv::Point2d c, double hw, double hh, double angle_deg);

}  // namespace advad::synth_ad2

namespace advad::synth_ad2 {
// mask AND region.
cv::Mat clip_to(const cv::Mat& mask, const cv::Mat& region);
// A defect mask big enough to be seen at this image size (>= ~1/4000 of the image, >= 6 px).
bool big_enough(const cv::Mat& mask);
// A side length scaled from the 256 px default (at least `min_px`).
inline int px(double at256, double long_side, int min_px = 1) {
  return std::max(min_px, static_cast<int>(at256 * long_side / 256.0 + 0.5));
}
}  // namespace advad::synth_ad2
