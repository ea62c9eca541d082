// RecentTimes percentiles, the latency rule (follows up and down with
// hysteresis, at a bounded rate) and the LiveStats counters.
#include <gtest/gtest.h>

#include <thread>

#include "engine/live_stats.h"

namespace advad {
namespace {

TEST(RecentTimes, NearestRankPercentilesOverTheWindow) {
  RecentTimes t(100);
  for (int i = 1; i <= 100; ++i) t.add(i);
  EXPECT_DOUBLE_EQ(t.percentile(0.5), 50);
  EXPECT_DOUBLE_EQ(t.percentile(0.95), 95);
  EXPECT_DOUBLE_EQ(t.percentile(1.0), 100);
  for (int i = 0; i < 100; ++i) t.add(1000);  // the window forgets the old ones
  EXPECT_DOUBLE_EQ(t.percentile(0.5), 1000);
  EXPECT_EQ(t.count(), 100u);
  EXPECT_DOUBLE_EQ(RecentTimes().percentile(0.95), 0);
}

TEST(LatencyTracker, FollowsUpAtOnceAndDownOnlyBelowTheBand) {
  LatencyTracker::Rule rule;
  rule.window = 16;
  rule.min_samples = 4;
  rule.min_interval_s = 2.0;
  LatencyTracker l(rule);
  l.reset(0.100, 0.0);
  for (int i = 0; i < 3; ++i) l.add(0.300);
  EXPECT_FALSE(l.update(10.0)) << "too few samples";
  l.add(0.300);
  EXPECT_TRUE(l.update(10.0));
  EXPECT_NEAR(l.announced(), 0.330, 1e-9) << "1.1 x p95";
  // Slightly faster frames: inside the band, no change.
  for (int i = 0; i < 16; ++i) l.add(0.260);
  EXPECT_FALSE(l.update(20.0));
  EXPECT_NEAR(l.announced(), 0.330, 1e-9);
  // Much faster: follows down.
  for (int i = 0; i < 16; ++i) l.add(0.100);
  EXPECT_TRUE(l.update(21.0));
  EXPECT_NEAR(l.announced(), 0.110, 1e-9);
  // Slower again: back up, but not within 2 s of the last change.
  for (int i = 0; i < 16; ++i) l.add(0.500);
  EXPECT_FALSE(l.update(22.0));
  EXPECT_NEAR(l.announced(), 0.110, 1e-9);
  EXPECT_TRUE(l.update(23.5));
  EXPECT_NEAR(l.announced(), 0.550, 1e-9);
}

TEST(LiveStats, CountsFromSeveralThreads) {
  LiveStats s;
  std::thread a([&] {
    for (int i = 0; i < 1000; ++i) s.frame_in();
  });
  std::thread b([&] {
    for (int i = 0; i < 250; ++i) s.scored(0.01 * (i % 10 + 1));  // 25 each of 10..100 ms
    for (int i = 0; i < 7; ++i) s.unscored("non-finite");
    s.unscored("wrong-shape");
  });
  a.join();
  b.join();
  s.defect();
  s.dropped_late();
  s.carried();
  s.suspicious_constant();
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.frames_in, 1000u);
  EXPECT_EQ(snap.scored, 250u);
  EXPECT_EQ(snap.unscored, 8u);
  EXPECT_EQ(snap.unscored_by_reason.at("non-finite"), 7u);
  EXPECT_EQ(snap.defects, 1u);
  EXPECT_EQ(snap.dropped_late, 1u);
  EXPECT_EQ(snap.carried, 1u);
  EXPECT_EQ(snap.suspicious_constant, 1u);
  EXPECT_NEAR(snap.scoring_p50_ms, 50, 1e-6);
  EXPECT_NEAR(snap.scoring_p95_ms, 100, 1e-6);
  s.reset();
  EXPECT_EQ(s.snapshot().frames_in, 0u);
}

}  // namespace
}  // namespace advad
