#include "data/synth_ad2/draw.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace advad::synth_ad2 {

uint32_t mix_seed(std::initializer_list<uint32_t> parts) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint32_t p : parts) {
    h ^= p + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    h ^= h >> 31;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void add_noise(cv::Mat& img, uint32_t seed, double sigma) {
  cv::Mat noise(img.size(), CV_32FC(img.channels()));
  cv::RNG r(seed | 1u);
  r.fill(noise, cv::RNG::NORMAL, 0.0, sigma);
  cv::Mat f;
  img.convertTo(f, CV_32F);
  f += noise;
  f.convertTo(img, CV_8U);
}

cv::Mat smooth_field(cv::Size size, Rng& rng, double cell) {
  const int gw = std::max(2, static_cast<int>(size.width / cell) + 2);
  const int gh = std::max(2, static_cast<int>(size.height / cell) + 2);
  cv::Mat g(gh, gw, CV_32F);
  for (int y = 0; y < gh; ++y)
    for (int x = 0; x < gw; ++x) g.at<float>(y, x) = static_cast<float>(rng.uni(-1, 1));
  cv::Mat out;
  cv::resize(g, out, size, 0, 0, cv::INTER_CUBIC);
  return cv::min(cv::max(out, -1.0), 1.0);
}

cv::Mat blob_mask(cv::Size size, cv::Point2d c, double rx, double ry, double angle_deg, Rng& rng,
                  double irregularity) {
  const int n = 14;
  const double a0 = angle_deg * CV_PI / 180.0;
  std::vector<double> rad(n);
  for (auto& r : rad) r = 1.0 + rng.sym(irregularity);
  std::vector<cv::Point> pts;
  for (int i = 0; i < n; ++i) {
    // Average neighbouring radii so the outline stays blob-like, not spiky.
    const double r = (rad[i] * 2 + rad[(i + 1) % n] + rad[(i + n - 1) % n]) / 4.0;
    const double t = 2 * CV_PI * i / n;
    const double x = rx * r * std::cos(t), y = ry * r * std::sin(t);
    pts.emplace_back(cvRound(c.x + x * std::cos(a0) - y * std::sin(a0)),
                     cvRound(c.y + x * std::sin(a0) + y * std::cos(a0)));
  }
  cv::Mat m = cv::Mat::zeros(size, CV_8UC1);
  cv::fillPoly(m, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(255), cv::LINE_8);
  return m;
}

cv::Mat crack_mask(cv::Size size, cv::Point2d a, double angle, double length, int thickness, Rng& rng,
                   double jitter) {
  cv::Mat m = cv::Mat::zeros(size, CV_8UC1);
  const int steps = std::max(3, static_cast<int>(length / 5));
  cv::Point2d p = a;
  for (int i = 0; i < steps; ++i) {
    angle += rng.sym(jitter);
    const cv::Point2d q = p + cv::Point2d(std::cos(angle), std::sin(angle)) * (length / steps);
    cv::line(m, cv::Point(cvRound(p.x), cvRound(p.y)), cv::Point(cvRound(q.x), cvRound(q.y)), cv::Scalar(255),
             thickness, cv::LINE_8);
    p = q;
  }
  return m;
}

cv::Point2d sample_point(const cv::Mat& region, Rng& rng, int margin) {
  cv::Mat inner = region;
  if (margin > 0) cv::erode(region, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * margin + 1, 2 * margin + 1}));
  for (const cv::Mat* m : {static_cast<const cv::Mat*>(&inner), &region}) {
    std::vector<cv::Point> pts;
    cv::findNonZero(*m, pts);
    if (!pts.empty()) return pts[rng.next() % pts.size()];
  }
  return {region.cols / 2.0, region.rows / 2.0};
}

void paint(cv::Mat& img, const cv::Mat& mask, const cv::Scalar& colour, double alpha) {
  cv::Mat solid(img.size(), img.type(), colour), mixed;
  cv::addWeighted(img, 1.0 - alpha, solid, alpha, 0.0, mixed);
  mixed.copyTo(img, mask);
}

void shade(cv::Mat& img, const cv::Mat& mask, double delta, const cv::Mat& weight) {
  cv::Mat f;
  img.convertTo(f, CV_32F);
  cv::Mat add(img.size(), CV_32F, cv::Scalar(delta));
  if (!weight.empty()) add = add.mul(weight);
  std::vector<cv::Mat> ch;
  cv::split(f, ch);
  for (auto& c : ch) c += add;
  cv::merge(ch, f);
  cv::Mat out;
  f.convertTo(out, CV_8U);
  out.copyTo(img, mask);
}

cv::Scalar contrast_colour(const cv::Mat& img, const cv::Mat& mask, double strength) {
  const cv::Scalar m = cv::mean(img, mask);
  const double lum = img.channels() == 1 ? m[0] : (m[0] + m[1] + m[2]) / 3.0;
  const double target = lum > 128 ? std::max(0.0, lum - strength) : std::min(255.0, lum + strength);
  return cv::Scalar::all(target);
}

std::vector<cv::Point> rotated_rect(cv::Point2d c, double hw, double hh, double angle_deg) {
  const double a = angle_deg * CV_PI / 180.0, ca = std::cos(a), sa = std::sin(a);
  std::vector<cv::Point> pts;
  for (auto [x, y] : {std::pair{-hw, -hh}, {hw, -hh}, {hw, hh}, {-hw, hh}})
    pts.emplace_back(cvRound(c.x + x * ca - y * sa), cvRound(c.y + x * sa + y * ca));
  return pts;
}

}  // namespace advad::synth_ad2

namespace advad::synth_ad2 {
cv::Mat clip_to(const cv::Mat& mask, const cv::Mat& region) {
  cv::Mat out;
  cv::bitwise_and(mask, region, out);
  return out;
}

bool big_enough(const cv::Mat& mask) {
  return cv::countNonZero(mask) >= std::max(6, static_cast<int>(mask.total() / 4000));
}
}  // namespace advad::synth_ad2
