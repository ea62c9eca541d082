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
#include "metrics/threshold_sweep.h"

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

namespace {

// Labelled maps whose values are multiples of 1/8 (exact in float16, so the
// sweep's float16 candidates are every distinct value): defect-free images with
// noise, defective ones with a raised rectangle marked in the ground truth.
std::vector<ChainImage> labelled_images() {
  std::vector<ChainImage> v;
  for (uint64_t s = 0; s < 8; ++s) {
    cv::Mat m = normal_map(500 + s, 24);
    m = cv::min(cv::max(m, -2.0), 2.0);
    cv::Mat q;
    m.convertTo(q, CV_32S, 8.0);
    q.convertTo(m, CV_32F, 1.0 / 8);
    ChainImage im;
    if (s % 2 == 1) {
      im.gt = cv::Mat::zeros(m.size(), CV_8U);
      const cv::Rect r(3 + static_cast<int>(s), 5, 5 + static_cast<int>(s % 3), 6);
      im.gt(r).setTo(1);
      m(r) += 0.5 + 0.125 * static_cast<double>(s);
    }
    im.map = m;
    v.push_back(im);
  }
  return v;
}

}  // namespace

TEST(ThresholdSweep, LabelledOptimumUnderTheBudgetEqualsBruteForce) {
  PostprocSpec spec = line_spec();
  spec.blur_ksize = 0;  // maps are blurred before the sweep
  const std::vector<ChainImage> images = labelled_images();
  std::vector<float> values;
  for (const auto& im : images) values.insert(values.end(), im.map.begin<float>(), im.map.end<float>());
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  int binding = 0;  // budgets that exclude the F1-best threshold
  for (double min_t : {-1e9, 0.5, 1.0, 1.6, 2.2}) {
    const LabelledF1 r = labelled_f1(images, spec, min_t);
    binding += r.constrained.threshold != r.best.threshold ? 1 : 0;
    // Brute force: every distinct value and min_t, the real chain on every image, BinaryAccumulator's F1.
    std::vector<double> cand(values.begin(), values.end());
    cand.push_back(min_t);
    double best = -1, best_t = 0, best_c = -1, best_ct = 0;
    for (double t : cand) {
      BinaryAccumulator acc;
      for (const auto& im : images) acc.add(postprocess(im.map, 0.f, t, spec).mask, im.gt);
      const double f1 = acc.pixels().f1();
      auto take = [&](double& b, double& bt) {
        if (f1 > b || (f1 == b && t > bt)) b = f1, bt = t;
      };
      take(best, best_t);
      if (t >= min_t) take(best_c, best_ct);
    }
    EXPECT_EQ(r.best.seg.f1(), best) << min_t;
    EXPECT_EQ(r.best.threshold, best_t) << min_t;
    EXPECT_EQ(r.constrained.seg.f1(), best_c) << min_t;
    EXPECT_EQ(r.constrained.threshold, best_ct) << min_t;
    EXPECT_GE(r.constrained.threshold, min_t);
    EXPECT_LE(r.constrained.seg.f1(), r.best.seg.f1());
    // The reported point is the chain at that threshold.
    const ChainPoint at = evaluate_chain(images, spec, r.constrained.threshold);
    EXPECT_EQ(at.seg.tp, r.constrained.seg.tp);
    EXPECT_EQ(at.cls.f1(), r.constrained.cls.f1());
    EXPECT_EQ(at.good, 4);
    EXPECT_EQ(at.good_flagged, r.constrained.good_flagged);
  }
  EXPECT_GE(binding, 1);
  EXPECT_GT(labelled_f1(images, spec, -1e9).best.seg.f1(), 0.5);  // the planted rectangles are findable
}

// Large maps: a coarse pass then a refinement around the two best points.
TEST(ThresholdSweep, CoarseSweepRefinesAroundTheBestPoints) {
  PostprocSpec spec = line_spec();
  spec.blur_ksize = 0;
  const std::vector<ChainImage> images = labelled_images();
  for (double min_t : {-1e9, 1.0, 1.6}) {
    const LabelledF1 exact = labelled_f1(images, spec, min_t);
    ASSERT_EQ(exact.sweep.size(), exact.candidates);
    ASSERT_GT(exact.candidates, 20u);
    // Enough room for every value: the same as the exact sweep.
    const LabelledF1 roomy = labelled_f1(images, spec, min_t, exact.candidates);
    EXPECT_EQ(roomy.sweep.size(), exact.candidates);
    EXPECT_EQ(roomy.constrained.threshold, exact.constrained.threshold);
    const LabelledF1 r = labelled_f1(images, spec, min_t, 6);
    EXPECT_EQ(r.candidates, exact.candidates);
    // 6 coarse ranks + min_t, then at most two spans between coarse neighbours.
    const size_t span = 2 * (exact.candidates - 1) / 5 + 1;
    EXPECT_LT(r.sweep.size(), exact.candidates);
    EXPECT_LE(r.sweep.size(), 7 + 2 * span);
    for (size_t i = 1; i < r.sweep.size(); ++i) EXPECT_GT(r.sweep[i - 1].threshold, r.sweep[i].threshold);
    // Never better than exact, the reported points are the chain's, and within the budget.
    EXPECT_LE(r.best.seg.f1(), exact.best.seg.f1());
    EXPECT_LE(r.constrained.seg.f1(), exact.constrained.seg.f1());
    EXPECT_GE(r.constrained.threshold, min_t);
    for (const ChainPoint& p : r.sweep) EXPECT_LE(p.seg.f1(), r.best.seg.f1());
    const ChainPoint at = evaluate_chain(images, spec, r.constrained.threshold);
    EXPECT_EQ(at.seg.tp, r.constrained.seg.tp);
    EXPECT_EQ(at.seg.fp, r.constrained.seg.fp);
    // On these maps SegF1 is one broad peak: the refinement lands on the exact optimum.
    EXPECT_EQ(r.best.threshold, exact.best.threshold) << min_t;
    EXPECT_EQ(r.constrained.threshold, exact.constrained.threshold) << min_t;
  }
}

TEST(ThresholdSweep, MinAreaTableAndChoice) {
  PostprocSpec spec = line_spec();
  spec.blur_ksize = 0;
  std::vector<ChainImage> clean, pseudo;
  for (uint64_t s = 0; s < 20; ++s) {
    ChainImage c;
    c.map = normal_map(700 + s, 24);
    clean.push_back(c);
    ChainImage p;
    p.map = normal_map(900 + s, 24);
    p.gt = cv::Mat::zeros(p.map.size(), CV_8U);
    const int side = 2 + static_cast<int>(s % 6);  // small and larger planted defects
    p.gt(cv::Rect(8, 8, side, side)).setTo(255);
    p.map.setTo(3.0, p.gt);
    pseudo.push_back(p);
  }
  const std::vector<int> cands = {4, 0, 16, 64, 100000};
  const std::vector<MinAreaRow> rows = min_area_table(clean, pseudo, spec, 0.1, cands);
  ASSERT_EQ(rows.size(), cands.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    PostprocSpec s = spec;
    s.min_area = cands[i];
    EXPECT_EQ(rows[i].min_area, cands[i]);
    if (cands[i] == 100000) {
      EXPECT_EQ(rows[i].found, 0);
      continue;
    }
    std::vector<double> crit;
    for (const auto& c : clean) crit.push_back(critical_threshold(c.map, s));
    const BudgetThreshold b = budget_threshold(crit, 0.1);
    EXPECT_EQ(rows[i].budget.threshold, b.threshold);
    EXPECT_LE(rows[i].budget.flagged, 2);
    // Found = the chain at that threshold overlaps the planted defect.
    int found = 0;
    for (const auto& p : pseudo) {
      const Detection d = postprocess(p.map, 0.f, b.threshold, s);
      found += d.anomalous && cv::countNonZero(d.mask & p.gt) > 0 ? 1 : 0;
    }
    EXPECT_EQ(rows[i].found, found) << cands[i];
  }
  const size_t b = best_min_area(rows, 4);
  for (const auto& r : rows) EXPECT_LE(r.found, rows[b].found);
  // Ties: fewer flagged, then the preferred value, then the smaller.
  std::vector<MinAreaRow> tie(3);
  tie[0].min_area = 0, tie[1].min_area = 16, tie[2].min_area = 4;
  for (auto& t : tie) t.found = 5;
  EXPECT_EQ(best_min_area(tie, 4), 2u);
  EXPECT_EQ(best_min_area(tie, 7), 0u);
  tie[1].budget.flagged = -1;
  EXPECT_EQ(best_min_area(tie, 4), 1u);
}

TEST(ThresholdSweep, CalibrationPlotDraws) {
  CalibrationPlot p;
  for (int i = 0; i < 30; ++i) p.clean_critical.push_back(0.1 * i), p.found_critical.push_back(0.1 * i + 1.0);
  p.chosen = 2.5;
  p.chosen_label = "false-alarms";
  const cv::Mat img = draw_calibration(p, 800, 500);
  ASSERT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.cols, 800);
  EXPECT_EQ(img.rows, 500);
  cv::Mat grey;
  cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
  EXPECT_GT(cv::countNonZero(grey < 250), 2000);  // curves, band, axes: not blank
}
