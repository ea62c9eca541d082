#include "engine/live_stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace advad {

void RecentTimes::add(double seconds) {
  values_.push_back(seconds);
  while (values_.size() > capacity_) values_.pop_front();
}

double RecentTimes::percentile(double q) const {
  if (values_.empty()) return 0;
  std::vector<double> v(values_.begin(), values_.end());
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(q * static_cast<double>(v.size()))));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(rank - 1), v.end());
  return v[rank - 1];
}

void LatencyTracker::reset(double announced_s, double now_s) {
  times_.clear();
  announced_ = announced_s;
  last_change_s_ = now_s;
}

bool LatencyTracker::update(double now_s) {
  if (times_.count() < rule_.min_samples) return false;
  if (now_s - last_change_s_ < rule_.min_interval_s) return false;
  const double target = rule_.headroom * times_.percentile(rule_.quantile);
  if (target > announced_ || target < rule_.lower_ratio * announced_) {
    announced_ = target;
    last_change_s_ = now_s;
    return true;
  }
  return false;
}

void LiveStats::scored(double scoring_seconds) {
  ++scored_;
  std::lock_guard<std::mutex> lock(mutex_);
  scoring_.add(scoring_seconds);
}

void LiveStats::unscored(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++unscored_[reason];
}

void LiveStats::reset() {
  frames_in_ = scored_ = carried_ = dropped_late_ = suspicious_ = defects_ = swaps_ = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  unscored_.clear();
  scoring_.clear();
}

LiveStats::Snapshot LiveStats::snapshot() const {
  Snapshot s;
  s.frames_in = frames_in_;
  s.scored = scored_;
  s.carried = carried_;
  s.dropped_late = dropped_late_;
  s.suspicious_constant = suspicious_;
  s.defects = defects_;
  s.model_swaps = swaps_;
  std::lock_guard<std::mutex> lock(mutex_);
  s.unscored_by_reason = unscored_;
  for (const auto& [reason, n] : unscored_) s.unscored += n;
  s.scoring_p50_ms = scoring_.percentile(0.5) * 1e3;
  s.scoring_p95_ms = scoring_.percentile(0.95) * 1e3;
  return s;
}

}  // namespace advad
