#include "engine/map_health.h"

#include <cmath>
#include <opencv2/core.hpp>

namespace advad {

MapHealth check_map(const AnomalyMap& m, int frame_width, int frame_height) {
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
