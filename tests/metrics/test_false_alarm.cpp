// False-alarm budgets (src/metrics/false_alarm.h): critical thresholds against
// a brute-force sweep through the real post-processing, the budget quantile,
// the Clopper-Pearson bound, and the bound holding on fresh normal images.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <random>

#include "core/error.h"
#include "core/postproc.h"
#include "metrics/false_alarm.h"

using namespace advad;

namespace {

// Smooth random "normal" maps: noise blurred so that regions have extent.
cv::Mat normal_map(uint64_t seed, int side = 32) {
  cv::Mat m(side, side, CV_32F);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::NORMAL, 0.0, 1.0);
  cv::GaussianBlur(m, m, cv::Size(5, 5), 1.5);
  return m;
}

PostprocSpec line_spec() {
  PostprocSpec s;
  s.blur_ksize = 3;
  s.blur_sigma = 1.0;
  s.close_w = s.close_h = 3;
  s.fill_holes = true;
  s.erode_w = s.erode_h = 2;
  s.min_area = 4;
  return s;
}

// The largest distinct value of the blurred map at which postprocess flags the image, by trying them all.
double brute_force_critical(const cv::Mat& map, const PostprocSpec& spec, const cv::Mat& defect = cv::Mat()) {
  cv::Mat m = map.clone();  // not `m = map`: the blur would write into the caller's map
  if (spec.blur_ksize > 0) cv::GaussianBlur(map, m, cv::Size(spec.blur_ksize, spec.blur_ksize), spec.blur_sigma);
  std::vector<float> v(m.begin<float>(), m.end<float>());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  double best = -std::numeric_limits<double>::infinity();
  bool seen_clean = false;
  for (float t : v) {
    const Detection d = postprocess(map, 0.f, t, spec);  // the real chain, blur included
    const bool flagged = defect.empty() ? d.anomalous : (d.anomalous && cv::countNonZero(d.mask & defect) > 0);
    if (flagged) {
      EXPECT_FALSE(seen_clean) << "decision not monotone at " << t;
      best = t;
    } else {
      seen_clean = true;
    }
  }
  return best;
}

}  // namespace

TEST(FalseAlarm, CriticalThresholdEqualsBruteForceSweep) {
  const PostprocSpec spec = line_spec();
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const cv::Mat map = normal_map(seed, 24);
    const double c = critical_threshold(map, spec);
    EXPECT_EQ(c, brute_force_critical(map, spec)) << "seed " << seed;
    // Flagged at c, clean just above it.
    EXPECT_TRUE(postprocess(map, 0.f, c, spec).anomalous);
    EXPECT_FALSE(postprocess(map, 0.f, std::nextafter(static_cast<float>(c), 1e9f), spec).anomalous);
  }
}

TEST(FalseAlarm, CriticalThresholdOfAPlantedDefect) {
  const PostprocSpec spec = line_spec();
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    cv::Mat map = normal_map(100 + seed, 24);
    cv::Mat defect = cv::Mat::zeros(map.size(), CV_8U);
    cv::rectangle(defect, cv::Rect(4 + static_cast<int>(seed), 6, 6, 5), 255, cv::FILLED);
    map.setTo(1.5 + 0.1 * static_cast<double>(seed), defect);
    const double c = critical_threshold_found(map, defect, spec);
    EXPECT_EQ(c, brute_force_critical(map, spec, defect)) << "seed " << seed;
    EXPECT_GE(critical_threshold(map, spec), c);  // found implies flagged
  }
}

TEST(FalseAlarm, MinAreaLargerThanAnyRegionNeverFlags) {
  PostprocSpec spec = line_spec();
  spec.min_area = 100000;
  EXPECT_EQ(critical_threshold(normal_map(3, 16), spec), -std::numeric_limits<double>::infinity());
  EXPECT_THROW(budget_threshold({-HUGE_VAL, -HUGE_VAL}, 0.1), Error);
}

TEST(FalseAlarm, BudgetIsTheLowestThresholdWithinIt) {
  std::vector<double> c;
  for (int i = 0; i < 40; ++i) c.push_back(static_cast<float>(0.01 * i));  // 0.00 .. 0.39, floats as map values are
  const BudgetThreshold b = budget_threshold(c, 0.05);   // at most 2 of 40
  EXPECT_EQ(b.n, 40);
  EXPECT_EQ(b.flagged, 2);
  EXPECT_GT(b.threshold, 0.37);
  EXPECT_LE(b.threshold, std::nextafter(0.37f, 1.0f));
  // One float lower flags a third image.
  int lower = 0;
  for (double x : c) lower += x >= std::nextafter(static_cast<float>(b.threshold), -1.0f) ? 1 : 0;
  EXPECT_EQ(lower, 3);
  // Ties: never more than the budget.
  const BudgetThreshold t = budget_threshold({0.5, 0.5, 0.5, 0.1}, 0.25);  // allowed 1
  EXPECT_EQ(t.flagged, 0);
  EXPECT_GT(t.threshold, 0.5);
  EXPECT_THROW(budget_threshold(c, 1.0), Error);
  EXPECT_THROW(budget_threshold(c, std::nan("")), Error);
  EXPECT_THROW(budget_threshold({}, 0.1), Error);
}

TEST(FalseAlarm, ClopperPearsonBound) {
  // x = 0: the bound is 1 - alpha^(1/n) in closed form.
  for (int n : {1, 5, 20, 300}) EXPECT_NEAR(clopper_pearson_upper(0, n), 1 - std::pow(0.05, 1.0 / n), 1e-9) << n;
  // x > 0: P(X <= x | upper) = 5 %, by direct binomial sums.
  for (auto [x, n] : {std::pair{1, 20}, {3, 50}, {10, 200}}) {
    const double p = clopper_pearson_upper(x, n);
    double cdf = 0;
    for (int k = 0; k <= x; ++k)
      cdf += std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) + k * std::log(p) +
                      (n - k) * std::log1p(-p));
    EXPECT_NEAR(cdf, 0.05, 1e-7) << x << "/" << n;
  }
  EXPECT_EQ(clopper_pearson_upper(7, 7), 1.0);
  EXPECT_NEAR(incomplete_beta(2.5, 1, 0.3), std::pow(0.3, 2.5), 1e-12);
  EXPECT_THROW(clopper_pearson_upper(3, 2), Error);
  // 20 images cannot support a 5 % budget (0 of 20 still allows 13.9 %); 100 can.
  std::vector<double> twenty(20, 0.0), hundred(100, 0.0);
  for (int i = 0; i < 100; ++i) hundred[static_cast<size_t>(i)] = i;
  EXPECT_FALSE(budget_threshold(twenty, 0.05).supported);
  EXPECT_TRUE(budget_threshold(hundred, 0.05).supported);
}

TEST(FalseAlarm, FreshNormalImagesStayWithinTheBound) {
  // Calibrate on 1000 normal maps, then count alarms on 4000 fresh ones from the same
  // distribution. The bound is on the true rate; 4000 fresh images measure it to about ±0.4 %.
  const PostprocSpec spec = line_spec();
  std::vector<double> calib;
  for (uint64_t s = 0; s < 1000; ++s) calib.push_back(critical_threshold(normal_map(1000 + s, 20), spec));
  const BudgetThreshold b = budget_threshold(calib, 0.05);
  EXPECT_LE(b.flagged, 50);
  int alarms = 0;
  const int fresh = 4000;
  for (uint64_t s = 0; s < static_cast<uint64_t>(fresh); ++s)
    alarms += postprocess(normal_map(100000 + s, 20), 0.f, b.threshold, spec).anomalous ? 1 : 0;
  const double rate = static_cast<double>(alarms) / fresh;
  EXPECT_LE(rate, b.upper95) << alarms << " of " << fresh;
  EXPECT_GT(alarms, 0);  // the threshold is not trivially high
}
