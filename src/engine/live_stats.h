// What a live scoring element measures and reports: recent timings with
// percentiles, the latency it should announce (with hysteresis), and the
// frame counters behind its `stats`. No GStreamer types here.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace advad {

// The last `capacity` durations (seconds) and their percentiles.
class RecentTimes {
 public:
  explicit RecentTimes(size_t capacity = 64) : capacity_(capacity < 1 ? 1 : capacity) {}
  void add(double seconds);
  size_t count() const { return values_.size(); }
  // Nearest-rank percentile (q in [0,1]) of the window; 0 when empty.
  double percentile(double q) const;
  void clear() { values_.clear(); }

 private:
  size_t capacity_;
  std::deque<double> values_;
};

// The latency an element announces: a high percentile of the time frames
// spend in it, over a window of recent frames, with headroom and hysteresis.
//  target = headroom x p95(window), once min_samples frames are in it;
//  the announced value moves to the target when the target is above it, or
//  below `lower_ratio` x it (so it follows reality down as well as up, but
//  does not flap), and at most once per `min_interval_s` seconds.
class LatencyTracker {
 public:
  struct Rule {
    size_t window = 64;
    size_t min_samples = 8;
    double quantile = 0.95;
    double headroom = 1.1;
    double lower_ratio = 0.75;
    double min_interval_s = 2.0;
  };
  LatencyTracker() : LatencyTracker(Rule{}) {}
  explicit LatencyTracker(Rule rule) : rule_(rule), times_(rule.window) {}

  // Starts over with an announced value (e.g. from the warm-up).
  void reset(double announced_s, double now_s);
  void add(double seconds_in_element) { times_.add(seconds_in_element); }
  // True when the announced value changed (then post a LATENCY message).
  bool update(double now_s);
  double announced() const { return announced_; }
  double measured() const { return times_.percentile(rule_.quantile); }

 private:
  Rule rule_;
  RecentTimes times_;
  double announced_ = 0, last_change_s_ = -1e300;
};

// Counters of a scoring element; the element and its downstream peers (which
// count verdicts) update them from several threads.
class LiveStats {
 public:
  struct Snapshot {
    uint64_t frames_in = 0, scored = 0, carried = 0, dropped_late = 0, unscored = 0, suspicious_constant = 0,
             defects = 0, model_swaps = 0;
    std::map<std::string, uint64_t> unscored_by_reason;
    double scoring_p50_ms = 0, scoring_p95_ms = 0;
  };

  void frame_in() { ++frames_in_; }
  void scored(double scoring_seconds);
  void carried() { ++carried_; }
  void dropped_late() { ++dropped_late_; }
  void unscored(const std::string& reason);
  void suspicious_constant() { ++suspicious_; }
  void defect() { ++defects_; }
  void model_swapped() { ++swaps_; }
  void reset();
  Snapshot snapshot() const;

 private:
  std::atomic<uint64_t> frames_in_{0}, scored_{0}, carried_{0}, dropped_late_{0}, suspicious_{0}, defects_{0},
      swaps_{0};
  mutable std::mutex mutex_;  // guards the two below
  std::map<std::string, uint64_t> unscored_;
  RecentTimes scoring_{256};
};

}  // namespace advad
