// Resize parity: PIL bilinear (antialiased) on uint8, torch bilinear maps.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/resize.h"
#include "test_support.h"

namespace advad {
namespace {

// The input pattern the references were made from (see tests/data/core/README.md).
cv::Mat pattern(int w, int h, int c) {
  cv::Mat out(h, w, CV_8UC(c));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) {
        const int64_t v = (int64_t{x} * x * 3 + y * 7 + int64_t{x} * y + k * 50 + ((x * 13) ^ (y * 29))) & 255;
        out.ptr<uint8_t>(y)[x * c + k] = static_cast<uint8_t>(v);
      }
  return out;
}

// Minimal reader for the little-endian float32 C-order 2-D .npy references.
cv::Mat read_npy_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  char magic[8];
  in.read(magic, 8);
  uint16_t hlen = 0;
  in.read(reinterpret_cast<char*>(&hlen), 2);
  std::string header(hlen, '\0');
  in.read(header.data(), hlen);
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path + ": expected <f4 C-order");
  auto open = header.find("'shape': (");
  int h = 0, w = 0;
  std::sscanf(header.c_str() + open + 10, "%d, %d", &h, &w);
  cv::Mat m(h, w, CV_32F);
  in.read(reinterpret_cast<char*>(m.data), static_cast<std::streamsize>(m.total() * sizeof(float)));
  return m;
}

struct Case {
  int w, h, ow, oh, c;
};

TEST(Resize, PilBilinearMatchesPilExactly) {
  const Case cases[] = {{153, 128, 56, 56, 3}, {306, 256, 56, 56, 3}, {279, 256, 224, 224, 3}, {132, 132, 112, 112, 3},
                        {40, 30, 97, 71, 3},   {100, 50, 37, 80, 3},  {77, 59, 31, 23, 1}};
  for (const auto& c : cases) {
    const std::string name = "pil_bilinear_" + std::to_string(c.w) + "x" + std::to_string(c.h) + "_to_" +
                             std::to_string(c.ow) + "x" + std::to_string(c.oh) + ".png";
    SCOPED_TRACE(name);
    cv::Mat ref = cv::imread(test::data_path("core", name), c.c == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
    ASSERT_FALSE(ref.empty());
    if (c.c == 3) cv::cvtColor(ref, ref, cv::COLOR_BGR2RGB);
    cv::Mat out = pil_resize_bilinear(pattern(c.w, c.h, c.c), cv::Size(c.ow, c.oh));
    ASSERT_EQ(out.size(), ref.size());
    ASSERT_EQ(out.type(), ref.type());
    cv::Mat diff;
    cv::absdiff(out, ref, diff);
    double maxdiff = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &maxdiff);
    EXPECT_EQ(maxdiff, 0.0) << "differs from PIL by up to " << maxdiff;
    // The antialiasing matters here: plain INTER_LINEAR is far off on downscales.
    if (c.ow * 2 < c.w) {
      cv::Mat lin;
      cv::resize(pattern(c.w, c.h, c.c), lin, cv::Size(c.ow, c.oh), 0, 0, cv::INTER_LINEAR);
      cv::absdiff(lin, ref, diff);
      cv::minMaxLoc(diff.reshape(1), nullptr, &maxdiff);
      EXPECT_GT(maxdiff, 10.0);
    }
  }
}

TEST(Resize, SameSizeIsACopyAndBadInputThrows) {
  cv::Mat a = pattern(20, 10, 3);
  cv::Mat b = pil_resize_bilinear(a, a.size());
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  EXPECT_NE(a.data, b.data);
  EXPECT_THROW(pil_resize_bilinear(cv::Mat(4, 4, CV_32F), {2, 2}), InputError);
  EXPECT_THROW(pil_resize_bilinear(a, {0, 3}), InputError);
}

TEST(Resize, ResizeImageDispatchesFilters) {
  cv::Mat a = pattern(64, 48, 3), ref;
  cv::resize(a, ref, {32, 20}, 0, 0, cv::INTER_LINEAR);
  EXPECT_EQ(cv::norm(resize_image(a, {32, 20}, ResizeFilter::Linear), ref, cv::NORM_INF), 0.0);
  cv::resize(a, ref, {32, 20}, 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(resize_image(a, {32, 20}, ResizeFilter::Area), ref, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(resize_image(a, {32, 20}, ResizeFilter::PilBilinear), pil_resize_bilinear(a, {32, 20}),
                     cv::NORM_INF),
            0.0);
}

torch::Tensor map32() {
  torch::Tensor m = torch::empty({32, 32});
  auto a = m.accessor<float, 2>();
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) a[y][x] = static_cast<float>((x * 37 + y * 101) % 97) / 97.0f;
  return m;
}

void expect_map_close(const torch::Tensor& out, const std::string& ref_file) {
  cv::Mat ref = read_npy_f32(test::data_path("core", ref_file));
  ASSERT_EQ(out.size(0), ref.rows);
  ASSERT_EQ(out.size(1), ref.cols);
  torch::Tensor r = torch::from_blob(ref.data, {ref.rows, ref.cols}, torch::kFloat32);
  EXPECT_LT((out - r).abs().max().item<float>(), 1e-6f);
}

TEST(Resize, MapAlignCornersMatchesTorchInterpolate) {
  torch::Tensor out = resize_map_align_corners(map32(), 117, 131);
  expect_map_close(out, "map32_to_131x117_align_true.npy");
  // Corners map onto corners exactly with align_corners=True.
  EXPECT_FLOAT_EQ(out[116][130].item<float>(), map32()[31][31].item<float>());
  // Rank is kept: [B,C,h,w] in, [B,C,H,W] out.
  EXPECT_EQ(resize_map_align_corners(map32().view({1, 1, 32, 32}), 64, 48).sizes(), (std::vector<int64_t>{1, 1, 64, 48}));
  EXPECT_EQ(resize_map_align_corners(map32().unsqueeze(0), 8, 9).sizes(), (std::vector<int64_t>{1, 8, 9}));
  EXPECT_THROW(resize_map_align_corners(torch::zeros({4}), 2, 2), InputError);
  EXPECT_THROW(resize_map_align_corners(torch::zeros({4, 4}, torch::kInt64), 2, 2), InputError);
}

TEST(Resize, MapHalfPixelMatchesTorchInterpolate) {
  expect_map_close(resize_map_bilinear(map32(), 117, 131), "map32_to_131x117_align_false.npy");
}

}  // namespace
}  // namespace advad
