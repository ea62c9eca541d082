// Seamless maps: on a seamless synthetic texture, a map stitched from tiles
// with overlap + Hann blending jumps across tile borders no more than it
// varies inside tiles; pasted tiles (the seed's way) show the seams this
// measure is built to see.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "core/demo_model.h"
#include "core/model.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"

namespace advad {
namespace {

constexpr int kW = 320, kH = 240;

// Mean |m(x) - m(x-1)| over rows, for every column step x (index x-1).
std::vector<double> column_steps(const cv::Mat& m) {
  std::vector<double> steps(m.cols - 1, 0.0);
  for (int y = 0; y < m.rows; ++y) {
    const float* row = m.ptr<float>(y);
    for (int x = 1; x < m.cols; ++x) steps[x - 1] += std::abs(row[x] - row[x - 1]);
  }
  for (double& s : steps) s /= m.rows;
  return steps;
}

struct SeamMeasure {
  double border = 0;  // largest step within 2 px of a tile border
  double inside = 0;  // median step away from tile and frame borders
};

SeamMeasure measure(const cv::Mat& map, const std::vector<int>& borders, int margin) {
  const std::vector<double> steps = column_steps(map);
  SeamMeasure out;
  std::vector<double> inside;
  for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
    const int x = i + 1;
    bool near_border = false;
    for (int b : borders) near_border = near_border || std::abs(x - b) <= margin;
    if (near_border) {
      out.border = std::max(out.border, steps[i]);
    } else if (x > margin && x < map.cols - margin) {
      inside.push_back(steps[i]);
    }
  }
  std::nth_element(inside.begin(), inside.begin() + inside.size() / 2, inside.end());
  out.inside = inside[inside.size() / 2];
  return out;
}

// A seamless texture: smooth waves only (no noise, no edges), so whatever
// jumps in its map is made by the tiling. 8-bit RGB.
cv::Mat smooth_texture() {
  cv::Mat rgb(kH, kW, CV_8UC3);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const double v = 128 + 45 * std::sin(2 * CV_PI * x / 97.0) + 30 * std::sin(2 * CV_PI * y / 71.0) +
                       20 * std::sin(2 * CV_PI * (x + y) / 53.0);
      const auto g = cv::saturate_cast<uchar>(v);
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(g, g, g);
    }
  return rgb;
}

struct Scored {
  cv::Mat map;
  std::vector<int> borders;  // every inner column where a tile starts or ends
};

Scored score_texture(const TilingSpec& tiling) {
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() / ("advad_seams_" + std::to_string(rd()));
  DemoOptions o;
  o.input_size = 128;
  const std::string ini = write_demo_package(dir.string(), o);
  Profile p = load_profile(ini);
  p.tiling = tiling;
  auto profile = std::make_shared<const Profile>(p);
  ModelOptions mo;
  mo.device = "cpu";
  mo.threads = 2;
  FrameScorer scorer(profile, create_model(p, mo), 0);
  const TileLayout layout = make_tile_layout(kW, kH, p.tiling);
  Scored s;
  s.map = scorer.score(smooth_texture(), PixelFormat::RGB, layout).map.clone();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  for (const Tile& t : layout.tiles)
    for (int x : {t.rect.x, t.rect.x + t.rect.width})
      if (x > 0 && x < kW) s.borders.push_back(x);
  return s;
}

TEST(SeamlessMaps, HannOverlapHasNoSeamsWherePastedTilesDo) {
  TilingSpec paste;
  paste.levels = {GridLevel{4, 1}};
  TilingSpec hann = paste;
  hann.overlap = 0.25;
  hann.merge = MergeMode::Mean;
  hann.blend = BlendMode::Hann;

  const Scored a = score_texture(paste);
  const Scored b = score_texture(hann);
  ASSERT_EQ(a.map.size(), cv::Size(kW, kH));
  ASSERT_EQ(b.map.size(), cv::Size(kW, kH));
  const SeamMeasure ma = measure(a.map, a.borders, 2);
  ASSERT_EQ(a.borders.size(), 6u);  // 3 inner borders, each where one tile ends and the next starts
  ASSERT_EQ(b.borders.size(), 6u);  // with overlap: 6 distinct tile edges
  const SeamMeasure mb = measure(b.map, b.borders, 2);
  RecordProperty("paste_border_over_inside", std::to_string(ma.border / ma.inside));
  RecordProperty("hann_border_over_inside", std::to_string(mb.border / mb.inside));
  std::printf("paste: border step %.5f, inside median %.5f (x%.2f)\n", ma.border, ma.inside, ma.border / ma.inside);
  std::printf("hann : border step %.5f, inside median %.5f (x%.2f)\n", mb.border, mb.inside, mb.border / mb.inside);
  EXPECT_GT(ma.border, 4.0 * ma.inside) << "the measure no longer sees the seams of pasted tiles";
  EXPECT_LT(mb.border, 2.0 * mb.inside) << "overlap + Hann leaves a seam";
}

}  // namespace
}  // namespace advad
