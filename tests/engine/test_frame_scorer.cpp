// FrameScorer with the demo TorchScript scorer: finds the planted defect in
// any pixel format; chunked batches give the same map as one batch.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <random>

#include "core/demo_model.h"
#include "core/error.h"
#include "core/model.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"

namespace advad {
namespace {

struct Package {
  std::string dir;
  std::string ini;
  Package() {
    std::random_device rd;
    dir = (std::filesystem::temp_directory_path() / ("advad_render_" + std::to_string(rd()))).string();
    DemoOptions o;
    o.input_size = 128;
    ini = write_demo_package(dir, o);
  }
  ~Package() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::unique_ptr<FrameScorer> scorer(const std::string& ini, int batch) {
  auto p = std::make_shared<const Profile>(load_profile(ini));
  ModelOptions o;
  o.device = "cpu";
  o.threads = 2;
  return std::make_unique<FrameScorer>(p, create_model(*p, o), batch);
}

TEST(FrameScorer, FindsThePlantedDefectInRgbAndGray) {
  Package pkg;
  auto s = scorer(pkg.ini, 0);
  EXPECT_GT(s->warm_up(), 0.0);
  cv::Rect box;
  const cv::Mat rgb = make_synthetic_frame(120, 90, true, 5, &box);
  const TileLayout layout = make_tile_layout(120, 90, s->profile().tiling);
  const AnomalyMap m = s->score(rgb, PixelFormat::RGB, layout);
  ASSERT_EQ(m.map.size(), cv::Size(120, 90));
  EXPECT_GE(m.score, 0.5f);
  double in_box = 0;
  cv::minMaxLoc(m.map(box & cv::Rect(0, 0, 120, 90)), nullptr, &in_box);
  EXPECT_GE(in_box, 0.5);
  cv::Mat gray;
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
  EXPECT_GE(s->score(gray, PixelFormat::GRAY8, layout).score, 0.5f);
  const AnomalyMap clean = s->score(make_synthetic_frame(120, 90, false, 6), PixelFormat::RGB, layout);
  EXPECT_LT(clean.score, 0.5f);
}

TEST(FrameScorer, BatchSizeChunksGiveTheSameMap) {
  Package pkg;
  const cv::Mat rgb = make_synthetic_frame(100, 80, true, 7);
  auto all = scorer(pkg.ini, 0), ones = scorer(pkg.ini, 1), threes = scorer(pkg.ini, 3);
  const TileLayout layout = make_tile_layout(100, 80, all->profile().tiling);
  const AnomalyMap a = all->score(rgb, PixelFormat::RGB, layout);
  for (auto* s : {ones.get(), threes.get()}) {
    const AnomalyMap b = s->score(rgb, PixelFormat::RGB, layout);
    EXPECT_LE(cv::norm(a.map, b.map, cv::NORM_INF), 1e-5);
    EXPECT_FLOAT_EQ(a.score, b.score);
  }
}

TEST(FrameScorer, FrameOfAnotherSizeThanTheLayoutIsAnInputError) {
  Package pkg;
  auto s = scorer(pkg.ini, 0);
  const TileLayout layout = make_tile_layout(100, 80, s->profile().tiling);
  EXPECT_THROW(s->score(make_synthetic_frame(64, 48, false, 1), PixelFormat::RGB, layout), InputError);
}

}  // namespace
}  // namespace advad
