#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

#include "core/error.h"

namespace advad {

cv::Mat make_regular_texture(int w, int h, uint32_t seed, bool gray) {
  if (w < 8 || h < 8) throw InputError("synthetic texture: size " + std::to_string(w) + "x" + std::to_string(h) +
                                       " is too small (at least 8x8)");
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> phase(0.0, 2.0 * CV_PI);
  std::normal_distribution<double> noise(0.0, 1.5);
  const double px = phase(rng), py = phase(rng);
  const double period = 12.0;
  const cv::Vec3d base(150.0, 120.0, 95.0);  // a brownish fabric tone; gray uses the mean
  cv::Mat out(h, w, gray ? CV_8UC1 : CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double weave = 8.0 * std::sin(2 * CV_PI * x / period + px) * std::sin(2 * CV_PI * y / period + py);
      const double n = noise(rng);
      if (gray) {
        out.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(128.0 + weave + n);
      } else {
        cv::Vec3b& p = out.at<cv::Vec3b>(y, x);
        for (int c = 0; c < 3; ++c) p[c] = cv::saturate_cast<uint8_t>(base[c] + weave + n);
      }
    }
  }
  return out;
}

cv::Mat plant_defect(cv::Mat& image, uint32_t seed, DefectShape shape) {
  if (image.empty() || image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
    throw InputError("plant_defect: the image must be 8-bit with 1 or 3 channels");
  if (image.cols < 12 || image.rows < 12)
    throw InputError("plant_defect: image " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                     " is too small (at least 12x12)");
  std::mt19937 rng(seed * 2654435761u + 17u);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  const int side = std::min(image.cols, image.rows);
  cv::Mat mask = cv::Mat::zeros(image.size(), CV_8UC1);
  if (shape == DefectShape::Blob) {
    const double r = std::max(2.0, uni(0.04, 0.14) * side);
    const cv::Point2d c(uni(r + 2, image.cols - r - 2), uni(r + 2, image.rows - r - 2));
    const int parts = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < parts; ++i) {
      const cv::Point off(static_cast<int>(uni(-0.5, 0.5) * r), static_cast<int>(uni(-0.5, 0.5) * r));
      const cv::Size axes(std::max(1, static_cast<int>(r * uni(0.5, 1.0))), std::max(1, static_cast<int>(r * uni(0.3, 0.8))));
      cv::ellipse(mask, cv::Point(c) + off, axes, uni(0, 180), 0, 360, cv::Scalar(255), cv::FILLED);
    }
  } else {
    const double len = uni(0.25, 0.6) * side;
    const double ang = uni(0, CV_PI);
    const cv::Point2d d(std::cos(ang) * len / 2, std::sin(ang) * len / 2);
    const cv::Point2d c(uni(std::abs(d.x) + 4, image.cols - std::abs(d.x) - 4), uni(std::abs(d.y) + 4, image.rows - std::abs(d.y) - 4));
    cv::line(mask, cv::Point(c - d), cv::Point(c + d), cv::Scalar(255), 2 + static_cast<int>(rng() % 2), cv::LINE_8);
  }
  // Keep the defect 2 px inside the image so it never touches the border by accident.
  const cv::Rect inner(2, 2, image.cols - 4, image.rows - 4);
  cv::Mat clipped = cv::Mat::zeros(mask.size(), CV_8UC1);
  mask(inner).copyTo(clipped(inner));
  mask = clipped;
  if (cv::countNonZero(mask) == 0) mask.at<uint8_t>(image.rows / 2, image.cols / 2) = 255;

  const double delta = (rng() % 2 ? 1.0 : -1.0) * uni(40.0, 80.0);
  std::normal_distribution<double> noise(0.0, 4.0);
  const int ch = image.channels();
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    uint8_t* p = image.ptr<uint8_t>(y);
    for (int x = 0; x < image.cols; ++x) {
      if (!m[x]) continue;
      const double n = noise(rng);
      for (int c = 0; c < ch; ++c) p[x * ch + c] = cv::saturate_cast<uint8_t>(p[x * ch + c] + delta + n);
    }
  }
  return mask;
}

}  // namespace advad
