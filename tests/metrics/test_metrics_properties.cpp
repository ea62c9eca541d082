// Hand-computable cases and properties of the metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

#include "core/error.h"
#include "data/half.h"
#include "metrics/object_eval.h"
#include "metrics/regions.h"
#include "metrics/trapezoid.h"

using namespace advad;

namespace {

// Random smooth-ish maps with blobs over random elliptic defects.
void random_object(int n, int w, int h, uint32_t seed, std::vector<cv::Mat>& maps, std::vector<cv::Mat>& masks,
                   bool half = true) {
  cv::RNG rng(seed);
  for (int i = 0; i < n; ++i) {
    cv::Mat m(h, w, CV_32F), g = cv::Mat::zeros(h, w, CV_8U);
    rng.fill(m, cv::RNG::UNIFORM, 0.0, 1.0);
    cv::GaussianBlur(m, m, cv::Size(5, 5), 0);
    if (i % 3 != 0) {
      for (int k = 0; k < 1 + i % 3; ++k)
        cv::ellipse(g, cv::Point(rng.uniform(5, w - 5), rng.uniform(5, h - 5)), cv::Size(rng.uniform(1, 6), rng.uniform(1, 4)),
                    rng.uniform(0, 180), 0, 360, cv::Scalar(1), cv::FILLED);
      cv::Mat gf;
      g.convertTo(gf, CV_32F, 0.3 + 0.1 * (i % 4));
      m += gf;
    }
    maps.push_back(half ? quantize_to_half(m) : m);
    masks.push_back(g);
  }
}

ObjectResult run(const std::vector<cv::Mat>& maps, const std::vector<cv::Mat>& masks, PixelMode mode,
                 std::vector<double> limits = {0.05, 0.3, 1.0}) {
  PixelOptions o;
  o.mode = mode;
  o.limits = std::move(limits);
  ObjectEvaluator ev("obj", "test", o);
  for (size_t i = 0; i < maps.size(); ++i) ev.add(maps[i], masks[i], cv::Mat());
  return ev.finish();
}

}  // namespace

TEST(Trapezoid, InterpolatesAtTheLimit) {
  // y = x on [0,1]: area to 0.5 = 0.125, with 0.5 not a sample (interpolated).
  EXPECT_DOUBLE_EQ(trapezoid_area({0, 0.4, 1}, {0, 0.4, 1}, 0.5), 0.125);
  // Step curve: (0,0) (0.2,1) (1,1) to 0.1 -> interpolated y 0.5, area 0.025.
  EXPECT_DOUBLE_EQ(trapezoid_area({0, 0.2, 1}, {0, 1, 1}, 0.1), 0.025);
  // Limit hit exactly: no correction term.
  EXPECT_DOUBLE_EQ(trapezoid_area({0, 0.5, 1}, {1, 1, 1}, 0.5), 0.5);
  // Equal x: the last y of the run counts for what follows.
  EXPECT_DOUBLE_EQ(trapezoid_area({0, 0, 0, 1}, {0, 0.5, 1, 1}, 1.0), 1.0);
  // Non-finite points are skipped.
  EXPECT_DOUBLE_EQ(trapezoid_area({0, NAN, 1}, {0, 5, 1}, 1.0), 0.5);
}

TEST(Regions, EightConnectivity) {
  cv::Mat g = cv::Mat::zeros(5, 5, CV_8U);
  g.at<uint8_t>(0, 0) = 255;
  g.at<uint8_t>(1, 1) = 7;  // diagonal neighbour: same region
  g.at<uint8_t>(3, 3) = 1;
  g.at<uint8_t>(3, 4) = 1;
  GtRegions r = label_regions(g);
  EXPECT_EQ(r.count(), 2);
  EXPECT_EQ(r.sizes[0], 21);
  EXPECT_EQ(r.labels.at<int>(0, 0), r.labels.at<int>(1, 1));
}

TEST(AuPro, HandComputedRegionsWeighEqually) {
  // One image 1x10: region A = 1 px (score 0.9), region B = 4 px (scores 0.8,
  // 0.8, 0.1, 0.1), normal pixels 0.5 x5. PRO after threshold 0.8 = (1 + 0.5)/2.
  cv::Mat m = (cv::Mat_<float>(1, 10) << 0.9f, 0.5f, 0.8f, 0.8f, 0.1f, 0.1f, 0.5f, 0.5f, 0.5f, 0.5f);
  cv::Mat g = (cv::Mat_<uint8_t>(1, 10) << 1, 0, 1, 1, 1, 1, 0, 0, 0, 0);
  for (PixelMode mode : {PixelMode::Exact, PixelMode::Float16}) {
    PixelOptions o;
    o.mode = mode;
    o.limits = {1.0};
    o.keep_full_curve = true;
    PixelAccumulator acc(o);
    acc.add(m, g);
    PixelMetrics p = acc.finish();
    ASSERT_EQ(p.full_curve.fpr.size(), 6u);  // (0,0), 0.9, 0.8, 0.5, 0.1, (1,1)
    EXPECT_DOUBLE_EQ(p.full_curve.pro[1], 0.5);
    EXPECT_DOUBLE_EQ(p.full_curve.pro[2], 0.75);
    EXPECT_DOUBLE_EQ(p.full_curve.fpr[3], 1.0);
    EXPECT_DOUBLE_EQ(p.full_curve.pro[3], 0.75);
    // Area: 0 until fpr 1 where pro jumps 0.75 -> ... rectangle 0.75*1 minus nothing: trapezoid 0..1 of (0,.75)->(1,.75)
    EXPECT_DOUBLE_EQ(p.au_pro_at(1.0), 0.5 * (0.75 + 0.75) * 1.0);
    EXPECT_EQ(p.regions, 2u);
    // Pixel AUROC: positives {0.9,0.8,0.8,0.1,0.1} vs 5 negatives at 0.5: 3 above, 2 below -> 0.6.
    EXPECT_DOUBLE_EQ(p.pixel_auroc, 0.6);
  }
}

TEST(AuPro, PerfectAndInvertedMaps) {
  std::vector<cv::Mat> maps, masks, inv;
  random_object(6, 48, 40, 3, maps, masks);
  for (size_t i = 0; i < maps.size(); ++i) {
    cv::Mat perfect;
    masks[i].convertTo(perfect, CV_32F);
    maps[i] = perfect;
    inv.push_back(1.0f - perfect);
  }
  for (PixelMode mode : {PixelMode::Exact, PixelMode::Float16}) {
    ObjectResult p = run(maps, masks, mode);
    EXPECT_NEAR(p.pixel.au_pro_at(0.05), 1.0, 1e-12);  // PRO sums 1/|region| in float64
    EXPECT_NEAR(p.pixel.au_pro_at(0.3), 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(p.pixel.pixel_auroc, 1.0);
    EXPECT_DOUBLE_EQ(p.image_auroc, 1.0);
    ObjectResult q = run(inv, masks, mode);
    EXPECT_NEAR(q.pixel.au_pro_at(0.05), 0.0, 1e-12);
    EXPECT_NEAR(q.pixel.au_pro_at(0.3), 0.0, 1e-12);
    EXPECT_DOUBLE_EQ(q.pixel.pixel_auroc, 0.0);
  }
}

TEST(AuPro, RandomMapsInRangeAndNearHalfTheLimit) {
  std::mt19937 gen(5);
  std::vector<cv::Mat> maps, masks;
  cv::RNG rng(11);
  for (int i = 0; i < 20; ++i) {
    cv::Mat m(60, 50, CV_32F);
    rng.fill(m, cv::RNG::UNIFORM, 0.0, 1.0);
    cv::Mat g = cv::Mat::zeros(60, 50, CV_8U);
    g(cv::Rect(0, 0, 10, 10)).setTo(1);
    maps.push_back(m);
    masks.push_back(g);
  }
  ObjectResult r = run(maps, masks, PixelMode::Exact);
  for (double l : {0.05, 0.3, 1.0}) {
    const double v = r.pixel.au_pro_at(l);
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
    EXPECT_NEAR(v, l / 2, 0.1 * l + 0.02) << l;  // PRO ~ FPR for random scores
  }
  EXPECT_NEAR(r.pixel.pixel_auroc, 0.5, 0.05);
}

TEST(AuPro, ExactAndFloat16AgreeOnFloat16Maps) {
  std::vector<cv::Mat> maps, masks;
  random_object(12, 64, 48, 21, maps, masks);
  ObjectResult a = run(maps, masks, PixelMode::Exact, {0.01, 0.05, 0.3, 1.0});
  ObjectResult b = run(maps, masks, PixelMode::Float16, {0.01, 0.05, 0.3, 1.0});
  EXPECT_EQ(a.pixel.distinct_scores, b.pixel.distinct_scores);
  EXPECT_EQ(a.pixel.regions, b.pixel.regions);
  for (double l : {0.01, 0.05, 0.3, 1.0}) EXPECT_NEAR(a.pixel.au_pro_at(l), b.pixel.au_pro_at(l), 1e-12) << l;
  EXPECT_NEAR(a.pixel.pixel_auroc, b.pixel.pixel_auroc, 1e-12);
  EXPECT_DOUBLE_EQ(a.image_auroc, b.image_auroc);
  EXPECT_GT(a.pixel.au_pro_at(0.3), 0.3);  // the blobs make it better than chance

  // Feeding raw float16 bits is the same as feeding the floats.
  PixelOptions o;
  o.limits = {0.01, 0.05, 0.3, 1.0};
  ObjectEvaluator ev("obj", "test", o);
  for (size_t i = 0; i < maps.size(); ++i) ev.add_half(to_half_bits(maps[i]), masks[i], cv::Mat());
  ObjectResult c = ev.finish();
  EXPECT_EQ(c.pixel.au_pro, b.pixel.au_pro);
  EXPECT_EQ(c.image_auroc, b.image_auroc);
}

TEST(AuPro, Float16ModeOnFloat32MapsEqualsExactOnQuantisedMaps) {
  std::vector<cv::Mat> maps, masks, q;
  random_object(6, 40, 40, 8, maps, masks, /*half=*/false);
  for (auto& m : maps) q.push_back(quantize_to_half(m));
  ObjectResult a = run(maps, masks, PixelMode::Float16);
  ObjectResult b = run(q, masks, PixelMode::Exact);
  for (double l : {0.05, 0.3}) EXPECT_NEAR(a.pixel.au_pro_at(l), b.pixel.au_pro_at(l), 1e-12);
  ObjectResult c = run(maps, masks, PixelMode::Exact);  // float32 ranking: more distinct scores
  EXPECT_GT(c.pixel.distinct_scores, a.pixel.distinct_scores);
}

TEST(AuPro, NoRegionsGivesNaN) {
  std::vector<cv::Mat> maps{cv::Mat(8, 8, CV_32F, cv::Scalar(0.5))}, masks{cv::Mat()};
  ObjectResult r = run(maps, masks, PixelMode::Float16);
  EXPECT_TRUE(std::isnan(r.pixel.au_pro_at(0.05)));
  EXPECT_TRUE(std::isnan(r.pixel.pixel_auroc));
  EXPECT_TRUE(std::isnan(r.image_auroc));
  EXPECT_FALSE(r.has_binary);
  EXPECT_TRUE(std::isnan(r.seg_f1()));
}

TEST(RocAuc, HandCases) {
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.5}, {false, true}), 0.5);
  EXPECT_TRUE(std::isnan(roc_auc({1, 2, 3}, {true, true, true})));
}

TEST(BinaryMetrics, PooledCountsAndImageVerdicts) {
  BinaryAccumulator b;
  cv::Mat gt = cv::Mat::zeros(4, 4, CV_8U), pred = cv::Mat::zeros(4, 4, CV_8U);
  gt(cv::Rect(0, 0, 2, 2)).setTo(255);
  pred(cv::Rect(1, 1, 2, 2)).setTo(255);  // 1 TP, 3 FP, 3 FN
  b.add(pred, gt);
  b.add(cv::Mat::zeros(4, 4, CV_8U), cv::Mat());         // good, predicted good: TN image
  cv::Mat fp = cv::Mat::zeros(4, 4, CV_8U);
  fp.at<uint8_t>(3, 3) = 255;
  b.add(fp, cv::Mat());                                  // good, predicted bad: 1 FP pixel, FP image
  EXPECT_EQ(b.pixels().tp, 1u);
  EXPECT_EQ(b.pixels().fp, 4u);
  EXPECT_EQ(b.pixels().fn, 3u);
  EXPECT_EQ(b.pixels().tn, 48u - 8u);
  EXPECT_DOUBLE_EQ(b.pixels().f1(), 2.0 / (2 + 4 + 3));
  EXPECT_EQ(b.images().tp, 1u);
  EXPECT_EQ(b.images().fp, 1u);
  EXPECT_EQ(b.images().tn, 1u);
  EXPECT_DOUBLE_EQ(b.images().f1(), 2.0 / 3.0);
  EXPECT_EQ(b.predicted_anomalous(), (std::vector<bool>{true, false, true}));
}

TEST(Errors, NaNSizeMismatchMixedBinary) {
  for (PixelMode mode : {PixelMode::Exact, PixelMode::Float16}) {
    PixelOptions o;
    o.mode = mode;
    ObjectEvaluator ev("obj", "test", o);
    cv::Mat m(4, 4, CV_32F, cv::Scalar(0.1));
    m.at<float>(2, 1) = NAN;
    try {
      ev.add(m, cv::Mat(), cv::Mat(), "a/b.tiff");
      FAIL();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("a/b.tiff"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find("NaN at pixel (1, 2)"), std::string::npos) << e.what();
    }
    EXPECT_THROW(ev.add(cv::Mat(4, 4, CV_32F, cv::Scalar(0)), cv::Mat::zeros(5, 4, CV_8U), cv::Mat()), InputError);
  }
  ObjectEvaluator ev("obj", "test");
  ev.add(cv::Mat(4, 4, CV_32F, cv::Scalar(0)), cv::Mat(), cv::Mat::zeros(4, 4, CV_8U));
  EXPECT_THROW(ev.add(cv::Mat(4, 4, CV_32F, cv::Scalar(0)), cv::Mat(), cv::Mat(), "x"), InputError);
  EXPECT_THROW(PixelAccumulator(PixelOptions{PixelMode::Exact, {0.0}, 0.3, false}), InputError);
  EXPECT_THROW(parse_pixel_mode("fast"), InputError);
}
