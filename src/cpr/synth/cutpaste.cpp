// Cut-paste pseudo-anomalies (the ISVL seed's generate_synthesize_hand.py, re-written).
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "cpr/synth/internal.h"

namespace advad::cpr::synth_detail {
namespace {

// Rotation by `degrees` with the canvas grown to hold the whole patch (nearest, alpha 0 outside).
cv::Mat rotate_expanded(const cv::Mat& bgra, double degrees) {
  const double rad = degrees * M_PI / 180.0, c = std::abs(std::cos(rad)), s = std::abs(std::sin(rad));
  const int w = std::max(1, static_cast<int>(std::ceil(bgra.cols * c + bgra.rows * s - 1e-6)));
  const int h = std::max(1, static_cast<int>(std::ceil(bgra.cols * s + bgra.rows * c - 1e-6)));
  cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(bgra.cols * 0.5f, bgra.rows * 0.5f), degrees, 1.0);
  rot.at<double>(0, 2) += w * 0.5 - bgra.cols * 0.5;
  rot.at<double>(1, 2) += h * 0.5 - bgra.rows * 0.5;
  cv::Mat out;
  cv::warpAffine(bgra, out, rot, cv::Size(w, h), cv::INTER_NEAREST, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return out;
}

}  // namespace

SynthSample synthesize_cutpaste(const cv::Mat& image, const cv::Mat& foreground, const SynthSources& sources,
                                std::mt19937_64& rng) {
  SynthSample s;
  s.image = image.clone();
  s.mask = cv::Mat::zeros(image.size(), CV_8U);
  if (sources.libraries.empty()) return s;
  const DefectLibrary& lib =
      sources.libraries[static_cast<size_t>(uniform_int(rng, 0, static_cast<int>(sources.libraries.size()) - 1))];
  const cv::Mat& patch = lib.patches[static_cast<size_t>(uniform_int(rng, 0, static_cast<int>(lib.patches.size()) - 1))].bgra;

  const double scale = uniform(rng, lib.scale.first, lib.scale.second);
  cv::Mat scaled;
  cv::resize(patch, scaled,
             cv::Size(std::max(1, static_cast<int>(std::lround(patch.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(patch.rows * scale)))),
             0, 0, cv::INTER_NEAREST);
  const cv::Mat rotated = rotate_expanded(scaled, uniform(rng, 0.0, 360.0));

  // Centre: a random pixel with foreground >= 0.8 (any pixel when none is).
  std::vector<cv::Point> centres;
  for (int y = 0; y < foreground.rows; ++y) {
    const float* f = foreground.ptr<float>(y);
    for (int x = 0; x < foreground.cols; ++x)
      if (f[x] >= kPasteCentreFg) centres.emplace_back(x, y);
  }
  cv::Point centre;
  if (centres.empty()) centre = {uniform_int(rng, 0, image.cols - 1), uniform_int(rng, 0, image.rows - 1)};
  else centre = centres[static_cast<size_t>(uniform_int(rng, 0, static_cast<int>(centres.size()) - 1))];

  const int x0 = centre.x - rotated.cols / 2, y0 = centre.y - rotated.rows / 2;
  const cv::Rect placed = cv::Rect(x0, y0, rotated.cols, rotated.rows) & cv::Rect(0, 0, image.cols, image.rows);
  for (int y = placed.y; y < placed.y + placed.height; ++y) {
    const auto* p = rotated.ptr<cv::Vec4b>(y - y0);
    const float* f = foreground.ptr<float>(y);
    auto* o = s.image.ptr<cv::Vec3b>(y);
    uint8_t* m = s.mask.ptr<uint8_t>(y);
    for (int x = placed.x; x < placed.x + placed.width; ++x) {
      const cv::Vec4b& px = p[x - x0];
      if (px[3] == 0) continue;
      const float w = std::clamp(f[x], 0.0f, 1.0f);
      for (int c = 0; c < 3; ++c) o[x][c] = cv::saturate_cast<uint8_t>(w * px[c] + (1.0f - w) * o[x][c]);
      if (f[x] > kPasteMaskFg) m[x] = 255;
    }
  }
  return s;
}

}  // namespace advad::cpr::synth_detail
