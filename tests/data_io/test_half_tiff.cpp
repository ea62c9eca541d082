// float16 conversion and float TIFF I/O.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/half.h"
#include "data/image_io.h"
#include "data/tiff_io.h"
#include "test_support.h"

using namespace advad;

TEST(Half, ExactValuesRoundTrip) {
  for (float v : {0.f, 1.f, -1.f, 0.5f, 2.f, 65504.f, -65504.f, 0.000061035156f /*min normal*/, 5.9604645e-8f /*min subnormal*/})
    EXPECT_EQ(half_to_float(float_to_half(v)), v) << v;
  EXPECT_EQ(float_to_half(1.f), 0x3C00);
  EXPECT_EQ(float_to_half(-2.f), 0xC000);
  EXPECT_EQ(float_to_half(65504.f), 0x7BFF);
}

TEST(Half, RoundsToNearestEven) {
  // Spacing of float16 at 1.0 is 2^-10; halfway points go to the even neighbour.
  const float ulp = std::ldexp(1.f, -10);
  EXPECT_EQ(half_to_float(float_to_half(1.f + ulp / 2)), 1.f);              // tie -> even (1.0)
  EXPECT_EQ(half_to_float(float_to_half(1.f + 3 * ulp / 2)), 1.f + 2 * ulp);  // tie -> even (1+2ulp)
  EXPECT_EQ(half_to_float(float_to_half(1.f + ulp * 0.51f)), 1.f + ulp);
  EXPECT_EQ(half_to_float(float_to_half(0.1f)), 0.0999755859375f);  // numpy: float16(0.1) = 0.09998
  EXPECT_TRUE(std::isinf(half_to_float(float_to_half(65520.f))));   // rounds up past max -> inf
  EXPECT_EQ(half_to_float(float_to_half(65519.f)), 65504.f);
  EXPECT_EQ(half_to_float(float_to_half(std::ldexp(1.f, -25))), 0.f);  // tie with 0 -> even (0)
  EXPECT_EQ(half_to_float(float_to_half(std::ldexp(1.5f, -25))), std::ldexp(1.f, -24));
  EXPECT_TRUE(is_half_nan(float_to_half(std::numeric_limits<float>::quiet_NaN())));
}

TEST(Half, OrderKeyIsMonotonic) {
  // Every non-NaN float16 pattern: key order == numeric order, -0 ties +0.
  std::vector<std::pair<float, uint16_t>> v;
  for (uint32_t h = 0; h < 65536; ++h)
    if (!is_half_nan(static_cast<uint16_t>(h))) v.push_back({half_to_float(static_cast<uint16_t>(h)), half_order_key(static_cast<uint16_t>(h))});
  for (const auto& a : v) EXPECT_EQ(half_to_float(half_from_order_key(a.second)), a.first);
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i].first == v[i - 1].first)
      EXPECT_EQ(v[i].second, v[i - 1].second);
    else
      EXPECT_LT(v[i - 1].second, v[i].second);
  }
}

TEST(TiffIo, Float16AndFloat32RoundTrip) {
  test::TempDir tmp;
  cv::Mat m(37, 53, CV_32F);
  cv::randu(m, -3.f, 7.f);
  m.at<float>(0, 0) = 0.1f;
  write_float_tiff(tmp.file("a16.tiff"), m, MapDepth::Float16);
  write_float_tiff(tmp.file("a32.tiff"), m, MapDepth::Float32);
  const TiffInfo i16 = read_tiff_info(tmp.file("a16.tiff"));
  EXPECT_TRUE(i16.is_float16()) << i16.describe();
  EXPECT_EQ(i16.width, 53);
  EXPECT_EQ(i16.height, 37);
  EXPECT_FALSE(read_tiff_info(tmp.file("a32.tiff")).is_float16());
  EXPECT_EQ(read_tiff_info(tmp.file("a32.tiff")).bits_per_sample, 32);

  cv::Mat r16 = read_float_tiff(tmp.file("a16.tiff"));
  cv::Mat r32 = read_map(tmp.file("a32.tiff"));
  ASSERT_EQ(r16.size(), m.size());
  EXPECT_EQ(cv::norm(r32, m, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(r16, quantize_to_half(m), cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(r16, m, cv::NORM_INF), 0.0);  // it really is quantised
  EXPECT_EQ(r16.at<float>(0, 0), 0.0999755859375f);
  cv::Mat bits = read_half_tiff_bits(tmp.file("a16.tiff"));
  EXPECT_EQ(cv::norm(from_half_bits(bits), r16, cv::NORM_INF), 0.0);
  EXPECT_THROW(read_half_tiff_bits(tmp.file("a32.tiff")), InputError);
}

TEST(TiffIo, ClearErrors) {
  test::TempDir tmp;
  try {
    read_float_tiff(tmp.file("missing.tiff"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.tiff"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
  std::ofstream(tmp.file("junk.tiff")) << "this is not a tiff";
  try {
    read_map(tmp.file("junk.tiff"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.tiff"), std::string::npos);
  }
  // A 3-channel 8-bit TIFF written by OpenCV is not a map.
  cv::imwrite(tmp.file("rgb.tiff"), cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_THROW(read_float_tiff(tmp.file("rgb.tiff")), InputError);
  EXPECT_THROW(write_float_tiff(tmp.file("nodir/x.tiff"), cv::Mat(4, 4, CV_32F, cv::Scalar(0))), InputError);
  EXPECT_THROW(write_float_tiff(tmp.file("x.tiff"), cv::Mat(4, 4, CV_8U, cv::Scalar(0))), InputError);
}

TEST(ImageIo, MasksAndMaps) {
  test::TempDir tmp;
  cv::Mat mask = cv::Mat::zeros(10, 12, CV_8U);
  mask(cv::Rect(2, 3, 4, 2)).setTo(255);
  mask.at<uint8_t>(9, 11) = 1;  // any non-zero value is anomalous
  cv::imwrite(tmp.file("m.png"), mask);
  cv::Mat b = read_binary_mask(tmp.file("m.png"), cv::Size(12, 10));
  EXPECT_EQ(cv::countNonZero(b), 9);
  double mx;
  cv::minMaxLoc(b, nullptr, &mx);
  EXPECT_EQ(mx, 1.0);
  try {
    read_binary_mask(tmp.file("m.png"), cv::Size(13, 10));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("12x10"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("13x10"), std::string::npos);
  }
  std::ofstream(tmp.file("broken.png")) << "\x89PNG garbage";
  EXPECT_THROW(read_image_rgb(tmp.file("broken.png")), InputError);
  EXPECT_THROW(read_image_rgb(tmp.file("none.png")), InputError);
  // An 8-bit gray PNG map reads with its raw values.
  cv::Mat g(3, 3, CV_8U, cv::Scalar(200));
  cv::imwrite(tmp.file("g.png"), g);
  EXPECT_EQ(read_map(tmp.file("g.png")).at<float>(1, 1), 200.f);
}
