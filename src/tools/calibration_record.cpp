#include "tools/calibration_record.h"

#include <filesystem>

#include "core/profile_reader.h"

namespace fs = std::filesystem;

namespace advad::tools {

namespace {

std::string relative_to(const std::string& path, const std::string& profile_path) {
  const fs::path dir = fs::absolute(profile_path).parent_path();
  const fs::path rel = fs::absolute(path).lexically_normal().lexically_relative(dir);
  return rel.empty() ? fs::absolute(path).lexically_normal().string() : rel.string();
}

}  // namespace

std::string calibration_group(const std::string& threshold_key) {
  return threshold_key == "default" ? "calibration" : "calibration." + threshold_key;
}

std::vector<IniEdit> calibration_edits(const CalibrationRecord& r, const std::string& threshold_key,
                                       const std::string& profile_path) {
  const std::string g = calibration_group(threshold_key);
  std::vector<IniEdit> e = {
      {g, "rule", r.rule},
      {g, "false_alarms", ProfileGroup::shortest(r.false_alarms)},
      {g, "images", std::to_string(r.images)},
      {g, "images_flagged", std::to_string(r.images_flagged)},
      {g, "false_alarm_bound", ProfileGroup::shortest(r.bound)},
      {g, "data", relative_to(r.data, profile_path)},
  };
  if (!r.labelled.empty()) e.push_back({g, "labelled", relative_to(r.labelled, profile_path)});
  if (r.rule == "mean-std") e.push_back({g, "k", ProfileGroup::shortest(r.k)});
  if (r.rule == "percentile") e.push_back({g, "percentile", ProfileGroup::shortest(r.percentile)});
  if (r.min_area >= 0) e.push_back({g, "min_area", std::to_string(r.min_area)});
  return e;
}

double recorded_false_alarms(const Profile& p, const std::string& threshold_key, double fallback) {
  const ProfileGroup g = ProfileGroup::of(p, calibration_group(threshold_key));
  return g.number("false_alarms", fallback, 0.0, 1.0, Bound::HighOpen);
}

}  // namespace advad::tools
