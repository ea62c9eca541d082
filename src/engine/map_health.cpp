#include "engine/map_health.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <torch/types.h>

namespace advad {

namespace {

MapHealth check_device_map_health(const AnomalyMap& m, int frame_width, int frame_height) {
  MapHealth h;
  const torch::Tensor& d = m.device_map;
  const bool is_2d = d.dim() == 2;
  const int64_t rows = is_2d ? d.size(0) : 0, cols = is_2d ? d.size(1) : 0;
  if (!is_2d || d.numel() == 0 || d.scalar_type() != torch::kFloat32 || cols != frame_width || rows != frame_height) {
    h.unscored_reason = kUnscoredWrongShape;
    h.detail = "map is " + std::to_string(cols) + "x" + std::to_string(rows) +
               (d.scalar_type() == torch::kFloat32 ? "" : " (not float32)") + ", frame is " +
               std::to_string(frame_width) + "x" + std::to_string(frame_height);
    return h;
  }
  // One synchronisation: all finite, min, max (NaN in min/max is ignored when the first says no).
  const torch::Tensor finite = torch::isfinite(d);
  const torch::Tensor head =
      torch::stack({finite.all().to(torch::kFloat32), d.min(), d.max()}).to(torch::kCPU).contiguous();
  h.bytes_down = static_cast<double>(head.numel() * head.element_size());
  const float* v = head.data_ptr<float>();
  if (v[0] <= 0.f) {
    // The first non-finite pixel in row-major order, as cv::checkRange reports it.
    const int64_t at = torch::logical_not(finite).flatten().to(torch::kUInt8).argmax().item<int64_t>();
    const float value = d.flatten()[at].item<float>();
    h.bytes_down += 8.0 + 4.0;
    h.unscored_reason = kUnscoredNonFinite;
    h.detail = "map value " + std::to_string(value) + " at (" + std::to_string(at % cols) + "," +
               std::to_string(at / cols) + ")";
    return h;
  }
  if (!std::isfinite(m.score)) {
    h.unscored_reason = kUnscoredNonFinite;
    h.detail = "frame score " + std::to_string(m.score);
    return h;
  }
  h.constant = v[1] == v[2];
  return h;
}

}  // namespace

MapHealth check_map(const AnomalyMap& m, int frame_width, int frame_height) {
  if (m.map.empty() && m.device_map.defined()) return check_device_map_health(m, frame_width, frame_height);
  MapHealth h;
  if (m.map.empty() || m.map.type() != CV_32F || m.map.cols != frame_width || m.map.rows != frame_height) {
    h.unscored_reason = kUnscoredWrongShape;
    h.detail = "map is " + std::to_string(m.map.cols) + "x" + std::to_string(m.map.rows) +
               (m.map.empty() || m.map.type() == CV_32F ? "" : " (not float32)") + ", frame is " +
               std::to_string(frame_width) + "x" + std::to_string(frame_height);
    return h;
  }
  // cv::checkRange finds NaN and +-Inf in one pass and says where.
  cv::Point at;
  if (!cv::checkRange(m.map, true, &at)) {
    h.unscored_reason = kUnscoredNonFinite;
    h.detail = "map value " + std::to_string(m.map.at<float>(at)) + " at (" + std::to_string(at.x) + "," +
               std::to_string(at.y) + ")";
    return h;
  }
  if (!std::isfinite(m.score)) {
    h.unscored_reason = kUnscoredNonFinite;
    h.detail = "frame score " + std::to_string(m.score);
    return h;
  }
  double lo = 0, hi = 0;
  cv::minMaxLoc(m.map, &lo, &hi);
  h.constant = lo == hi;
  return h;
}

}  // namespace advad
