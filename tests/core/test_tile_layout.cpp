// Tile layouts (seed grids, overlapping pyramids), to_rgb, make_batch, stitch.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/resize.h"
#include "core/tile_layout.h"

namespace advad {
namespace {

TilingSpec grid(int cols, int rows, double overlap = 0.0) {
  TilingSpec s;
  s.levels = {GridLevel{cols, rows}};
  s.overlap = overlap;
  return s;
}

// Number of tiles covering each pixel.
cv::Mat coverage(const TileLayout& L) {
  cv::Mat c = cv::Mat::zeros(L.frame_height, L.frame_width, CV_32S);
  for (const auto& t : L.tiles) c(t.rect) += 1;
  return c;
}

struct Seed {
  const char* name;
  int w, h, cols, rows, tw, th;
};

TEST(TileLayout, SeedGridsOfAllMvtecAd2Sizes) {
  const Seed seeds[] = {{"can", 2232, 1024, 4, 2, 558, 512},       {"fabric", 2448, 2048, 2, 2, 1224, 1024},
                        {"fruit_jelly", 2100, 1520, 1, 1, 2100, 1520}, {"rice", 2448, 2048, 4, 4, 612, 512},
                        {"sheet_metal", 4224, 1056, 8, 2, 528, 528}, {"vial", 1400, 1900, 1, 1, 1400, 1900},
                        {"wallplugs", 2448, 2048, 1, 1, 2448, 2048}, {"walnuts", 2448, 2048, 2, 2, 1224, 1024}};
  for (const auto& s : seeds) {
    SCOPED_TRACE(s.name);
    TileLayout L = make_tile_layout(s.w, s.h, grid(s.cols, s.rows));
    ASSERT_EQ(L.tiles.size(), static_cast<size_t>(s.cols * s.rows));
    for (const auto& t : L.tiles) {
      EXPECT_EQ(t.rect.width, s.tw);
      EXPECT_EQ(t.rect.height, s.th);
      // Row-major, columns first: tile (r, c) sits at (c*w0, r*h0), as the seed pastes it.
      EXPECT_EQ(t.rect.x, t.col * s.tw);
      EXPECT_EQ(t.rect.y, t.row * s.th);
    }
    if (s.cols > 1) {
      EXPECT_EQ(L.tiles[1].col, 1);
    }
    cv::Mat cov = coverage(L);
    double lo, hi;
    cv::minMaxLoc(cov, &lo, &hi);
    EXPECT_EQ(lo, 1);  // every pixel exactly once
    EXPECT_EQ(hi, 1);
  }
}

TEST(TileLayout, LeftoverPixelsGoToLastRowAndColumn) {
  TileLayout L = make_tile_layout(103, 50, grid(4, 3));
  ASSERT_EQ(L.tiles.size(), 12u);
  EXPECT_EQ(L.tiles[0].rect, cv::Rect(0, 0, 25, 16));
  EXPECT_EQ(L.tiles[3].rect, cv::Rect(75, 0, 28, 16));    // 103 - 3*25
  EXPECT_EQ(L.tiles[11].rect, cv::Rect(75, 32, 28, 18));  // 50 - 2*16
}

TEST(TileLayout, PyramidWithOverlapCoversFrameInsideBounds) {
  for (auto [w, h] : {std::pair{2448, 2048}, {2232, 1024}, {4224, 1056}, {1400, 1900}, {641, 479}}) {
    for (double o : {0.1, 0.25, 0.4}) {
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " overlap " + std::to_string(o));
      TilingSpec s;
      s.levels = {GridLevel{1, 1}, GridLevel{2, 2}, GridLevel{4, 3}};
      s.overlap = o;
      TileLayout L = make_tile_layout(w, h, s);
      ASSERT_EQ(L.tiles.size(), 1u + 4u + 12u);
      for (const auto& t : L.tiles) {
        EXPECT_GE(t.rect.x, 0);
        EXPECT_GE(t.rect.y, 0);
        EXPECT_LE(t.rect.br().x, w);
        EXPECT_LE(t.rect.br().y, h);
      }
      double lo;
      cv::minMaxLoc(coverage(L), &lo);
      EXPECT_GE(lo, 3);  // each level covers every pixel
      // Neighbours in a grid share about `o` of a tile.
      const cv::Rect a = L.tiles[1].rect, b = L.tiles[2].rect;  // level 1, (0,0) and (0,1)
      const double shared = static_cast<double>((a & b).width) / a.width;
      EXPECT_NEAR(shared, o, 0.02);
      EXPECT_EQ(L.tiles[5].level, 2);
    }
  }
}

TEST(TileLayout, ImpossibleLayoutsThrow) {
  EXPECT_THROW(make_tile_layout(0, 10, grid(1, 1)), InputError);
  EXPECT_THROW(make_tile_layout(10, 10, grid(11, 1)), InputError);
  EXPECT_THROW(make_tile_layout(10, 10, grid(0, 1)), InputError);
  EXPECT_THROW(make_tile_layout(10, 10, grid(2, 2, 0.5)), InputError);
  TilingSpec none;
  none.levels.clear();
  EXPECT_THROW(make_tile_layout(10, 10, none), InputError);
}

TEST(ToRgb, AllPixelFormats) {
  const uint8_t R = 10, G = 20, B = 30, X = 99;
  struct F {
    PixelFormat f;
    std::vector<uint8_t> px;
  };
  const F formats[] = {{PixelFormat::RGB, {R, G, B}},     {PixelFormat::BGR, {B, G, R}},     {PixelFormat::RGBx, {R, G, B, X}},
                       {PixelFormat::BGRx, {B, G, R, X}}, {PixelFormat::RGBA, {R, G, B, X}}, {PixelFormat::BGRA, {B, G, R, X}},
                       {PixelFormat::xRGB, {X, R, G, B}}, {PixelFormat::xBGR, {X, B, G, R}}, {PixelFormat::ARGB, {X, R, G, B}},
                       {PixelFormat::ABGR, {X, B, G, R}}};
  for (const auto& f : formats) {
    const int cn = channels_of(f.f);
    ASSERT_EQ(cn, static_cast<int>(f.px.size()));
    cv::Mat frame(3, 5, CV_8UC(cn));
    for (int i = 0; i < 15; ++i) std::copy(f.px.begin(), f.px.end(), frame.data + i * cn);
    cv::Mat rgb = to_rgb(frame, f.f);
    ASSERT_EQ(rgb.type(), CV_8UC3);
    EXPECT_EQ(rgb.at<cv::Vec3b>(2, 4), cv::Vec3b(R, G, B)) << static_cast<int>(f.f);
  }
  cv::Mat gray(2, 2, CV_8UC1, cv::Scalar(77));
  EXPECT_EQ(to_rgb(gray, PixelFormat::GRAY8).at<cv::Vec3b>(1, 1), cv::Vec3b(77, 77, 77));
  EXPECT_THROW(to_rgb(gray, PixelFormat::RGB), InputError);
}

TEST(MakeBatch, CropsResizesNormalisesPerTile) {
  cv::Mat frame(60, 80, CV_8UC3);
  cv::randu(frame, 0, 256);
  TileLayout L = make_tile_layout(80, 60, grid(2, 1));
  InputSpec in;
  in.width = 24;
  in.height = 20;
  torch::Tensor b = make_batch(frame, L, in, torch::kCPU);
  ASSERT_EQ(b.sizes(), (std::vector<int64_t>{2, 3, 20, 24}));
  // Tile 1 by hand: PIL resize of its crop, then (v/255 - mean) / std in RGB order.
  cv::Mat r = pil_resize_bilinear(frame(L.tiles[1].rect), {24, 20});
  for (int c = 0; c < 3; ++c) {
    const float expect = (r.at<cv::Vec3b>(7, 11)[c] / 255.f - in.mean[c]) / in.std[c];
    EXPECT_NEAR(b[1][c][7][11].item<float>(), expect, 1e-5);
  }
  // Centre crop after resize (torchvision CenterCrop offsets).
  in.crop = 16;
  torch::Tensor bc = make_batch(frame, L, in, torch::kCPU);
  ASSERT_EQ(bc.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_FLOAT_EQ(bc[0][1][0][0].item<float>(), b[0][1][2][4].item<float>());
  EXPECT_THROW(make_batch(frame(cv::Rect(0, 0, 40, 60)).clone(), L, in, torch::kCPU), InputError);
}

// Tile maps cut from a known frame map.
std::vector<torch::Tensor> cut(const torch::Tensor& map, const TileLayout& L) {
  std::vector<torch::Tensor> out;
  for (const auto& t : L.tiles)
    out.push_back(map.slice(0, t.rect.y, t.rect.br().y).slice(1, t.rect.x, t.rect.br().x).clone());
  return out;
}

TEST(Stitch, PasteMeanMaxReproduceAKnownMapExactly) {
  torch::manual_seed(3);
  const torch::Tensor truth = torch::rand({57, 91});
  for (auto merge : {MergeMode::Paste, MergeMode::Mean, MergeMode::Max}) {
    for (auto blend : {BlendMode::None, BlendMode::Hann}) {
      if (blend == BlendMode::Hann && merge != MergeMode::Mean) continue;
      TilingSpec s;
      s.levels = {GridLevel{1, 1}, GridLevel{3, 2}};
      s.overlap = 0.3;
      s.merge = merge;
      s.blend = blend;
      TileLayout L = make_tile_layout(91, 57, s);
      std::vector<float> scores(L.tiles.size(), 0.1f);
      scores[3] = 0.9f;
      // Both the CPU (OpenCV) path and the device (torch) path.
      for (bool torch_path : {false, true}) {
        AnomalyMap am = torch_path ? stitch_torch(cut(truth, L), scores, L) : stitch(cut(truth, L), scores, L);
        ASSERT_EQ(am.host_map().size(), cv::Size(91, 57));
        torch::Tensor got = torch::from_blob(am.host_map().data, {57, 91}, torch::kFloat32);
        const float tol = merge == MergeMode::Mean ? 1e-6f : 0.f;
        EXPECT_LE((got - truth).abs().max().item<float>(), tol)
            << to_string(merge) << " " << to_string(blend) << (torch_path ? " torch" : " opencv");
        EXPECT_FLOAT_EQ(am.score, 0.9f);
      }
    }
  }
}

TEST(Stitch, MergeModesCombineOverlapsAsDocumented) {
  TilingSpec s;
  s.levels = {GridLevel{1, 1}, GridLevel{1, 1}};
  TileLayout L = make_tile_layout(4, 3, s);
  std::vector<torch::Tensor> maps = {torch::full({3, 4}, 0.2f), torch::full({3, 4}, 0.6f)};
  for (auto fn : {&stitch, &stitch_torch}) {
    L.merge = MergeMode::Paste;
    EXPECT_FLOAT_EQ(fn(maps, {}, L).host_map().at<float>(1, 1), 0.6f);  // later tile wins
    L.merge = MergeMode::Mean;
    EXPECT_FLOAT_EQ(fn(maps, {}, L).host_map().at<float>(1, 1), 0.4f);
    L.merge = MergeMode::Max;
    EXPECT_FLOAT_EQ(fn(maps, {}, L).host_map().at<float>(1, 1), 0.6f);
    // Hann weights: a bigger weight in the tile centre pulls the mean toward that tile.
    TilingSpec t = grid(2, 1, 0.4);
    t.merge = MergeMode::Mean;
    t.blend = BlendMode::Hann;
    TileLayout two = make_tile_layout(8, 2, t);
    const int w0 = two.tiles[0].rect.width, w1 = two.tiles[1].rect.width;
    AnomalyMap h = fn({torch::zeros({2, w0}), torch::ones({2, w1})}, {}, two);
    EXPECT_LT(h.host_map().at<float>(0, two.tiles[1].rect.x), 0.5f);  // left edge of tile 1: tile 0 dominates
    EXPECT_GT(h.host_map().at<float>(0, w0 - 1), 0.5f);               // right edge of tile 0: tile 1 dominates
  }
  // Wrong shapes / counts are clear errors.
  EXPECT_THROW(stitch({torch::zeros({3, 4})}, {}, L), InputError);
  EXPECT_THROW(stitch({torch::zeros({3, 4}), torch::zeros({4, 3})}, {}, L), InputError);
}

}  // namespace
}  // namespace advad
