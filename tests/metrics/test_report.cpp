// Result tables, JSON and the PRO plot of advad eval.
#include <gtest/gtest.h>

#include <cmath>

#include "metrics/object_eval.h"
#include "metrics/pro_plot.h"
#include "metrics/report.h"

using namespace advad;

namespace {

// Two objects: one with binary maps, one without (SegF1 n/a).
std::vector<ObjectResult> two_objects() {
  std::vector<ObjectResult> out;
  for (int k = 0; k < 2; ++k) {
    ObjectEvaluator ev(k == 0 ? "alpha" : "beta", "test_public");
    for (int i = 0; i < 4; ++i) {
      cv::Mat m(16, 16, CV_32F);
      cv::randu(m, 0.f, 1.f);
      cv::Mat g = cv::Mat::zeros(16, 16, CV_8U);
      if (i % 2) {
        g(cv::Rect(4, 4, 4, 4)).setTo(1);
        m(cv::Rect(4, 4, 4, 4)) += 0.8f + 0.1f * k;
      }
      ev.add(m, g, k == 0 ? cv::Mat(m > 0.9f) : cv::Mat());
    }
    out.push_back(ev.finish());
  }
  return out;
}

}  // namespace

TEST(Report, TablesShowPercentMeansAndMissingValues) {
  const auto rs = two_objects();
  const std::string t = format_table(rs, TableStyle::Terminal);
  EXPECT_NE(t.find("alpha"), std::string::npos);
  EXPECT_NE(t.find("n/a"), std::string::npos);  // beta has no SegF1
  char mean[32];
  std::snprintf(mean, sizeof mean, "%.2f", 100 * (rs[0].pixel.au_pro_at(0.05) + rs[1].pixel.au_pro_at(0.05)) / 2);
  EXPECT_NE(t.find(mean), std::string::npos) << t;
  // The SegF1 mean is alpha's alone (NaN skipped).
  std::snprintf(mean, sizeof mean, "%.2f", 100 * rs[0].seg_f1());
  const std::string last = t.substr(t.rfind("mean"));
  EXPECT_NE(last.find(mean), std::string::npos) << last;

  const std::string md = format_table(rs, TableStyle::Markdown);
  EXPECT_EQ(md.rfind("| object", 0), 0u);
  EXPECT_NE(md.find("-: |"), std::string::npos) << md;
  const std::string csv = format_table(rs, TableStyle::Csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "object,images,anomalous_images,AU-PRO@0.05,AU-PRO@0.3,SegF1,ClassF1,I-AUROC,P-AUROC");
  EXPECT_NE(csv.find("beta,4,2,"), std::string::npos) << csv;
}

TEST(Report, JsonHasEveryNumberAndNullForMissing) {
  const auto rs = two_objects();
  const auto j = results_to_json(rs, "float16");
  ASSERT_EQ(j["objects"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["objects"][0]["au_pro"]["0.05"].get<double>(), rs[0].pixel.au_pro_at(0.05));
  EXPECT_TRUE(j["objects"][1]["seg_f1"].is_null());
  EXPECT_EQ(j["objects"][0]["seg_counts"]["tp"].get<uint64_t>(), rs[0].seg.tp);
  EXPECT_DOUBLE_EQ(j["mean"]["seg_f1"].get<double>(), rs[0].seg_f1());
  EXPECT_NEAR(j["mean"]["au_pro"]["0.3"].get<double>(), (rs[0].pixel.au_pro_at(0.3) + rs[1].pixel.au_pro_at(0.3)) / 2, 1e-15);
  EXPECT_EQ(limit_text(0.05), "0.05");
  EXPECT_EQ(limit_text(0.3), "0.3");
  EXPECT_EQ(limit_text(1.0), "1");
}

TEST(Report, PlotDrawsOneColouredCurvePerObject) {
  const auto rs = two_objects();
  cv::Mat img = draw_pro_curves(rs, 0.3, 800, 500);
  ASSERT_EQ(img.size(), cv::Size(800, 500));
  // The first two legend colours (BGR) appear in the plot area.
  auto count_colour = [&](cv::Scalar c) {
    cv::Mat m;
    cv::inRange(img, c, c, m);
    return cv::countNonZero(m);
  };
  EXPECT_GT(count_colour(cv::Scalar(180, 119, 31)), 50);
  EXPECT_GT(count_colour(cv::Scalar(14, 127, 255)), 50);
}
