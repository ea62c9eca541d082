// How a threshold was set, as advad calibrate --write records it in the
// profile beside the threshold: [calibration] for [threshold] default,
// [calibration.<split>] for a split's key. The group's false_alarms is also
// calibrate's default budget for that key, so a line states its budget once.
#pragma once
#include <string>
#include <vector>

#include "core/profile.h"
#include "tools/profile_arg.h"

namespace advad::tools {

struct CalibrationRecord {
  std::string rule;          // false-alarms | mean-std | percentile | max-f1 | labelled-f1
  double false_alarms = 0;   // the budget P the run used
  int images = 0;            // calibration images scored
  int images_flagged = 0;    // of them reported defective at the written threshold
  double bound = 0;          // 95 % Clopper-Pearson upper bound of the false-alarm rate
  std::string data;          // folder of the calibration images (absolute)
  std::string labelled;      // folder of the labelled split, "" when none
  double k = 0;              // mean-std rule only
  double percentile = 0;     // percentile rule only
  int min_area = -1;         // >= 0: chosen by --min-area auto
};

// "calibration" for the key "default", else "calibration.<key>".
std::string calibration_group(const std::string& threshold_key);

// The edits that write the record (paths relative to the profile's folder);
// the group is dropped first so keys of an earlier rule do not linger.
std::vector<IniEdit> calibration_edits(const CalibrationRecord& r, const std::string& threshold_key,
                                       const std::string& profile_path);

// The profile's recorded budget for this threshold key, or `fallback`.
double recorded_false_alarms(const Profile& p, const std::string& threshold_key, double fallback);

}  // namespace advad::tools
