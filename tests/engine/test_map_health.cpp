// check_map: NaN / infinity / wrong size make a frame unscored; a constant
// map is flagged; layout agreement between profiles.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/demo_model.h"
#include "engine/layout_match.h"
#include "engine/map_health.h"

namespace advad {
namespace {

AnomalyMap map_of(int w, int h, float v) {
  AnomalyMap m;
  m.map = cv::Mat(h, w, CV_32F, cv::Scalar(v));
  m.score = v;
  return m;
}

TEST(MapHealth, FiniteVaryingMapIsOk) {
  AnomalyMap m = map_of(40, 30, 0.1f);
  m.map.at<float>(3, 4) = 0.9f;
  const MapHealth h = check_map(m, 40, 30);
  EXPECT_TRUE(h.ok());
  EXPECT_FALSE(h.constant);
}

TEST(MapHealth, NanOrInfinityAnywhereIsUnscoredAndSaysWhere) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    AnomalyMap m = map_of(40, 30, 0.2f);
    m.map.at<float>(29, 39) = bad;
    const MapHealth h = check_map(m, 40, 30);
    EXPECT_EQ(h.unscored_reason, kUnscoredNonFinite);
    EXPECT_NE(h.detail.find("(39,29)"), std::string::npos) << h.detail;
  }
  AnomalyMap m = map_of(40, 30, 0.2f);
  m.score = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(check_map(m, 40, 30).unscored_reason, kUnscoredNonFinite);
}

TEST(MapHealth, WrongSizeOrTypeIsUnscored) {
  EXPECT_EQ(check_map(map_of(40, 30, 0.f), 41, 30).unscored_reason, kUnscoredWrongShape);
  AnomalyMap empty;
  EXPECT_EQ(check_map(empty, 40, 30).unscored_reason, kUnscoredWrongShape);
  AnomalyMap dbl;
  dbl.map = cv::Mat(30, 40, CV_64F, cv::Scalar(0));
  const MapHealth h = check_map(dbl, 40, 30);
  EXPECT_EQ(h.unscored_reason, kUnscoredWrongShape);
  EXPECT_NE(h.detail.find("not float32"), std::string::npos);
}

// A map left on the device (the tensor path): the same verdicts and details from
// three scalars, and the float map never comes down.
AnomalyMap device_only_map_health_of(const AnomalyMap& host) {
  AnomalyMap m;
  m.device_map = torch::from_blob(host.map.data, {host.map.rows, host.map.cols}, torch::kFloat32).clone();
  m.score = host.score;
  return m;
}

TEST(MapHealth, DeviceMapGivesTheHostVerdictFromScalars) {
  std::vector<AnomalyMap> cases{map_of(40, 30, 0.f), map_of(40, 30, 0.1f)};
  cases[1].map.at<float>(3, 4) = 0.9f;
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    AnomalyMap m = map_of(40, 30, 0.2f);
    m.map.at<float>(29, 39) = bad;
    m.map.at<float>(17, 5) = bad;  // the first in row-major order is the one named
    cases.push_back(m);
  }
  cases.push_back(map_of(40, 30, 0.3f));
  cases.back().score = std::numeric_limits<float>::quiet_NaN();
  for (const AnomalyMap& host : cases) {
    const AnomalyMap dev = device_only_map_health_of(host);
    for (const auto& [w, h] : std::vector<std::pair<int, int>>{{40, 30}, {41, 30}}) {
      const MapHealth a = check_map(host, w, h), b = check_map(dev, w, h);
      EXPECT_EQ(b.unscored_reason, a.unscored_reason);
      EXPECT_EQ(b.detail, a.detail);
      EXPECT_EQ(b.constant, a.constant);
      EXPECT_EQ(a.bytes_down, 0);
      if (w == 40 && a.unscored_reason != kUnscoredNonFinite) {
        EXPECT_EQ(b.bytes_down, 12);  // finite?, min, max
      }
      EXPECT_EQ(dev.host_bytes_down(), 0);
    }
  }
}

TEST(MapHealth, ConstantMapIsFlaggedButUsable) {
  const MapHealth h = check_map(map_of(40, 30, 0.f), 40, 30);
  EXPECT_TRUE(h.ok());
  EXPECT_TRUE(h.constant);
}

TEST(LayoutMatch, SameLayoutComparesTilesAndDifferencesNameKeys) {
  // Built by the library (a plain `Profile a;` trips a GCC 12 -Wmaybe-uninitialized false positive).
  Profile a = demo_profile("m.pt"), b = demo_profile("m.pt");
  a.input.width = b.input.width = 448;
  a.path = "a.ini";
  b.path = "b.ini";
  a.tiling.levels = {GridLevel{2, 2}};
  b.tiling.levels = {GridLevel{2, 2}};
  EXPECT_TRUE(layout_differences(a, b).empty());
  EXPECT_TRUE(same_layout(make_tile_layout(200, 100, a.tiling), make_tile_layout(200, 100, b.tiling)));
  EXPECT_FALSE(same_layout(make_tile_layout(200, 100, a.tiling), make_tile_layout(202, 100, b.tiling)));
  b.tiling.levels = {GridLevel{1, 1}};
  b.input.width = 256;
  EXPECT_FALSE(same_layout(make_tile_layout(200, 100, a.tiling), make_tile_layout(200, 100, b.tiling)));
  const auto d = layout_differences(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "[tiling] levels = 2x2 vs 1x1");
  EXPECT_EQ(d[1], "[input] width = 448 vs 256");
}

}  // namespace
}  // namespace advad
