#include "render/frame_json.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace advad {

std::string iso8601_utc(double unix_seconds) {
  const double whole = std::floor(unix_seconds);
  const std::time_t t = static_cast<std::time_t>(whole);
  int ms = static_cast<int>(std::lround((unix_seconds - whole) * 1000.0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (ms >= 1000) ms = 999;  // keep the string in the same second
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", ms);
  return buf;
}

double wall_clock_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string frame_json_line(const FrameRecord& r) {
  using nlohmann::json;
  json j;
  if (!r.run.empty()) j["run"] = r.run;
  j["frame"] = r.frame;
  if (r.pts_ns) {
    j["pts"] = *r.pts_ns;
    j["pts_s"] = static_cast<double>(*r.pts_ns) / 1e9;
  } else {
    j["pts"] = nullptr;
  }
  j["wallclock"] = iso8601_utc(r.wall_time);
  j["unix_time"] = r.wall_time;
  if (!r.source.empty()) j["source"] = r.source;
  if (!r.category.empty()) j["category"] = r.category;
  j["width"] = r.width;
  j["height"] = r.height;
  if (!r.model.empty()) j["model"] = r.model;
  if (!r.scored) {
    j["score"] = nullptr;
    j["verdict"] = "unscored";
    j["reason"] = r.unscored_reason.empty() ? "no-result" : r.unscored_reason;
    j["carried"] = r.carried;
    j["regions"] = json::array();
    return j.dump();
  }
  j["score"] = r.score;
  if (r.image_score) j["image_score"] = *r.image_score;
  j["carried"] = r.carried;
  j["scored_frame"] = r.scored_frame;
  if (r.threshold) j["threshold"] = *r.threshold;
  j["verdict"] = r.anomalous ? (*r.anomalous ? "defect" : "ok") : "unknown";
  json regions = json::array();
  for (const auto& g : r.regions) {
    json o{{"x", g.box.x},         {"y", g.box.y},   {"width", g.box.width}, {"height", g.box.height},
           {"area", g.area},       {"max_score", g.max_score}, {"mean_score", g.mean_score}};
    if (r.with_contours) {
      json pts = json::array();
      for (const auto& p : g.contour) pts.push_back({p.x, p.y});
      o["contour"] = std::move(pts);
    }
    regions.push_back(std::move(o));
  }
  j["regions"] = std::move(regions);
  if (!r.clip.empty()) j["clip"] = r.clip;
  return j.dump();
}

}  // namespace advad
