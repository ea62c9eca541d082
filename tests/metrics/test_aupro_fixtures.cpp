// AU-PRO, SegF1 and ClassF1 against the fixtures produced by the unmodified
// MVTec AD evaluation code (tests/data/metrics/README.md): both modes, to 1e-6.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "test_support.h"
#include "io/npy.h"
#include "metrics/object_eval.h"

using namespace advad;
using nlohmann::json;

namespace {

json expected() {
  std::ifstream f(test::data_path("metrics", "expected.json"));
  EXPECT_TRUE(f.good());
  return json::parse(f);
}

struct Fixture {
  std::vector<cv::Mat> maps, masks;
};

Fixture load(const std::string& name) {
  torch::Tensor m = load_npy(test::data_path("metrics", name + "_maps.npy")).to(torch::kFloat32).contiguous();
  torch::Tensor g = load_npy(test::data_path("metrics", name + "_masks.npy")).to(torch::kUInt8).contiguous();
  Fixture f;
  const int n = static_cast<int>(m.size(0)), h = static_cast<int>(m.size(1)), w = static_cast<int>(m.size(2));
  for (int i = 0; i < n; ++i) {
    f.maps.push_back(cv::Mat(h, w, CV_32F, m[i].data_ptr<float>()).clone());
    f.masks.push_back(cv::Mat(h, w, CV_8U, g[i].data_ptr<uint8_t>()).clone());
  }
  return f;
}

// Binary map of the fixture's SegF1 rule: score > threshold.
cv::Mat above(const cv::Mat& map, double t) {
  cv::Mat m;
  cv::compare(map, t, m, cv::CMP_GT);
  return m;
}

class Fixtures : public ::testing::TestWithParam<std::tuple<std::string, PixelMode>> {};

TEST_P(Fixtures, AuProMatchesReference) {
  const auto [name, mode] = GetParam();
  const json e = expected()["datasets"][name];
  Fixture f = load(name);
  PixelOptions o;
  o.mode = mode;
  o.limits = {0.05, 0.3, 1.0};
  o.keep_full_curve = true;
  ObjectEvaluator ev(name, "test", o);
  for (size_t i = 0; i < f.maps.size(); ++i) ev.add(f.maps[i], f.masks[i], cv::Mat(), "image " + std::to_string(i));
  ObjectResult r = ev.finish();
  EXPECT_EQ(r.pixel.normal_pixels, e["num_ok_pixels"].get<uint64_t>());
  EXPECT_EQ(r.pixel.regions, e["num_regions"].get<uint64_t>());
  // The fixture maps hold float16-representable values, so both modes see the same scores.
  EXPECT_EQ(r.pixel.distinct_scores, e["num_distinct_scores"].get<uint64_t>());
  for (const char* lim : {"0.05", "0.3", "1.0"}) {
    const double want = e["au_pro"][lim].get<double>();
    EXPECT_NEAR(r.pixel.au_pro_at(std::stod(lim)), want, 1e-6) << name << " lim " << lim;
    EXPECT_NEAR(r.pixel.au_pro_at(std::stod(lim)), e["au_pro_after_cast_to_float16"][lim].get<double>(), 1e-6);
  }
  // The curve: as many points as the reference (incl. (0,0) and (1,1)); where
  // the fixture lists the points, every one of them.
  ASSERT_EQ(r.pixel.full_curve.fpr.size(), e["curve_points"].get<size_t>());
  if (!e.contains("curve_fpr")) return;
  const auto fpr = e["curve_fpr"].get<std::vector<double>>();
  const auto pro = e["curve_pro"].get<std::vector<double>>();
  ASSERT_EQ(r.pixel.full_curve.fpr.size(), fpr.size());
  for (size_t i = 0; i < fpr.size(); ++i) {
    EXPECT_NEAR(r.pixel.full_curve.fpr[i], fpr[i], 1e-9) << i;  // float32 FPR as the reference
    EXPECT_NEAR(r.pixel.full_curve.pro[i], pro[i], 1e-9) << i;
  }
}

TEST_P(Fixtures, SegF1AndClassF1MatchDefinition) {
  const auto [name, mode] = GetParam();
  const json e = expected()["datasets"][name];
  Fixture f = load(name);
  for (double t : e["thresholds"].get<std::vector<double>>()) {
    std::ostringstream key;
    key << t;
    const json es = e["seg_f1"][key.str()], ec = e["class_f1"][key.str()];
    PixelOptions o;
    o.mode = mode;
    ObjectEvaluator ev(name, "test", o);
    for (size_t i = 0; i < f.maps.size(); ++i) ev.add(f.maps[i], f.masks[i], above(f.maps[i], t));
    ObjectResult r = ev.finish();
    ASSERT_TRUE(r.has_binary);
    EXPECT_EQ(r.seg.tp, es["tp"].get<uint64_t>()) << key.str();
    EXPECT_EQ(r.seg.fp, es["fp"].get<uint64_t>());
    EXPECT_EQ(r.seg.fn, es["fn"].get<uint64_t>());
    EXPECT_NEAR(r.seg_f1(), es["f1"].get<double>(), 1e-12);
    EXPECT_EQ(r.cls.tp, ec["tp"].get<uint64_t>());
    EXPECT_EQ(r.cls.fp, ec["fp"].get<uint64_t>());
    EXPECT_EQ(r.cls.fn, ec["fn"].get<uint64_t>());
    EXPECT_NEAR(r.class_f1(), ec["f1"].get<double>(), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(Both, Fixtures,
                         ::testing::Combine(::testing::Values("example4x4", "medium"),
                                            ::testing::Values(PixelMode::Exact, PixelMode::Float16)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + to_string(std::get<1>(info.param));
                         });

}  // namespace
