// frame_json_line: the JSON line parses back with the documented fields.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "render/frame_json.h"

namespace advad {
namespace {

TEST(FrameJson, ScoredFrameWithRegionsParsesBack) {
  FrameRecord r;
  r.frame = 17;
  r.pts_ns = 1'500'000'000;
  r.wall_time = 1700000000.25;
  r.source = "line-3";
  r.width = 640;
  r.height = 480;
  r.scored = true;
  r.carried = true;
  r.scored_frame = 15;
  r.score = 0.75f;
  r.threshold = 0.5;
  r.anomalous = true;
  Region g;
  g.box = cv::Rect(10, 20, 30, 40);
  g.area = 900;
  g.max_score = 0.9f;
  g.mean_score = 0.6f;
  g.contour = {{10, 20}, {39, 20}, {39, 59}};
  r.regions = {g};
  r.with_contours = true;
  const std::string line = frame_json_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["frame"], 17);
  EXPECT_EQ(j["pts"], 1500000000);
  EXPECT_DOUBLE_EQ(j["pts_s"].get<double>(), 1.5);
  EXPECT_EQ(j["wallclock"], "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(j["source"], "line-3");
  EXPECT_EQ(j["verdict"], "defect");
  EXPECT_EQ(j["carried"], true);
  EXPECT_EQ(j["scored_frame"], 15);
  EXPECT_NEAR(j["score"].get<double>(), 0.75, 1e-6);
  EXPECT_DOUBLE_EQ(j["threshold"].get<double>(), 0.5);
  ASSERT_EQ(j["regions"].size(), 1u);
  EXPECT_EQ(j["regions"][0]["x"], 10);
  EXPECT_EQ(j["regions"][0]["height"], 40);
  EXPECT_EQ(j["regions"][0]["area"], 900);
  EXPECT_EQ(j["regions"][0]["contour"].size(), 3u);
}

TEST(FrameJson, UnscoredFrameSaysSo) {
  FrameRecord r;
  r.frame = 3;
  r.wall_time = 0;
  const auto j = nlohmann::json::parse(frame_json_line(r));
  EXPECT_TRUE(j["pts"].is_null());
  EXPECT_TRUE(j["score"].is_null());
  EXPECT_EQ(j["verdict"], "unscored");
  EXPECT_FALSE(j.contains("source"));
  EXPECT_EQ(j["wallclock"], "1970-01-01T00:00:00.000Z");
}

TEST(FrameJson, OkVerdictAndNoContoursByDefault) {
  FrameRecord r;
  r.scored = true;
  r.anomalous = false;
  r.regions.resize(1);
  r.regions[0].contour = {{1, 1}};
  const auto j = nlohmann::json::parse(frame_json_line(r));
  EXPECT_EQ(j["verdict"], "ok");
  EXPECT_FALSE(j["regions"][0].contains("contour"));
  EXPECT_FALSE(j.contains("clip"));
}

TEST(FrameJson, DefectFrameNamesItsClip) {
  FrameRecord r;
  r.scored = true;
  r.anomalous = true;
  r.clip = "clips/line-3_f000120.mp4";
  const auto j = nlohmann::json::parse(frame_json_line(r));
  EXPECT_EQ(j["clip"], "clips/line-3_f000120.mp4");
}

TEST(FrameJson, WallClockIsNow) {
  const double now = wall_clock_now();
  EXPECT_GT(now, 1.6e9);
  EXPECT_EQ(iso8601_utc(now).size(), 24u);
}

}  // namespace
}  // namespace advad
