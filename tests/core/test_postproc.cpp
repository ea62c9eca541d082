// Post-processing steps on crafted masks, and the whole chain.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/postproc.h"

namespace advad {
namespace {

int white(const cv::Mat& m) { return cv::countNonZero(m); }

// A 60x60 mask with a ring (outer 30x30 square, 4 px wall) around (30,30).
cv::Mat ring() {
  cv::Mat m = cv::Mat::zeros(60, 60, CV_8U);
  cv::rectangle(m, cv::Rect(15, 15, 30, 30), cv::Scalar(255), cv::FILLED);
  cv::rectangle(m, cv::Rect(19, 19, 22, 22), cv::Scalar(0), cv::FILLED);
  return m;
}

TEST(Postproc, ThresholdIsGreaterOrEqualAndIgnoresNan) {
  cv::Mat map = (cv::Mat_<float>(1, 4) << 0.3137f, 0.5f, 0.6f, NAN);
  cv::Mat m = threshold_map(map, 0.5);
  EXPECT_EQ(m.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(m.at<uint8_t>(0, 1), 255);  // equality counts
  EXPECT_EQ(m.at<uint8_t>(0, 2), 255);
  EXPECT_EQ(m.at<uint8_t>(0, 3), 0);
  EXPECT_THROW(threshold_map(cv::Mat(2, 2, CV_8U), 0.5), InputError);
}

TEST(Postproc, FillHolesFillsEnclosedBackgroundOnly) {
  cv::Mat m = ring();
  cv::Mat f = fill_holes(m);
  EXPECT_EQ(white(f), 30 * 30);
  EXPECT_EQ(f.at<uint8_t>(30, 30), 255);
  EXPECT_EQ(f.at<uint8_t>(5, 5), 0);
  // A hole that touches the outside only diagonally is still a hole (4-connected fill).
  cv::Mat d = cv::Mat::zeros(10, 10, CV_8U);
  d(cv::Rect(0, 1, 10, 1)) = 255;  // a horizontal wall: below it is enclosed from (0,0)'s side
  EXPECT_EQ(white(fill_holes(d)), 100 - 10);
}

TEST(Postproc, FillHolesWithForegroundAtOriginTurnsAllWhite) {
  cv::Mat m = ring();
  m.at<uint8_t>(0, 0) = 255;
  EXPECT_EQ(white(fill_holes(m)), 60 * 60);  // the seed's behaviour
}

TEST(Postproc, CloseAndFillAndTheFallback) {
  // A ring with a 2 px gap: closing bridges it, then the inside is filled.
  cv::Mat m = ring();
  m(cv::Rect(29, 15, 2, 4)) = 0;
  EXPECT_EQ(white(fill_holes(m)), white(m));  // open ring: nothing enclosed
  cv::Mat cf = close_and_fill(m, 5, 5, 0.95);
  EXPECT_EQ(white(cf), 30 * 30);
  // (0,0) foreground: the fill floods everything, the fallback returns the step input unchanged.
  cv::Mat o = m.clone();
  o.at<uint8_t>(0, 0) = 255;
  cv::Mat fb = close_and_fill(o, 5, 5, 0.95);
  EXPECT_EQ(cv::norm(fb, o, cv::NORM_INF), 0.0);
  // A large legitimate fill above the fraction also falls back.
  cv::Mat big = cv::Mat::zeros(20, 20, CV_8U);
  cv::rectangle(big, cv::Rect(1, 1, 18, 18), cv::Scalar(255), 1);
  EXPECT_EQ(cv::norm(close_and_fill(big, 0, 0, 0.5), big, cv::NORM_INF), 0.0);       // 81% white > 50%
  EXPECT_EQ(white(close_and_fill(big, 0, 0, 0.95)), 18 * 18);                       // 81% < 95%: filled
}

TEST(Postproc, ClosingBridgesGapsAndKeepsShape) {
  cv::Mat m = cv::Mat::zeros(40, 40, CV_8U);
  m(cv::Rect(5, 10, 10, 10)) = 255;
  m(cv::Rect(18, 10, 10, 10)) = 255;  // 3 px gap
  cv::Mat c = close_mask(m, 5, 5);
  EXPECT_EQ(c.at<uint8_t>(15, 16), 255);
  EXPECT_EQ(white(c), 23 * 10);
  EXPECT_EQ(cv::norm(close_mask(m, 0, 0), m, cv::NORM_INF), 0.0);  // 0 = off
  cv::Mat wide = close_mask(m, 2, 2);  // too small to bridge 3 px
  EXPECT_EQ(wide.at<uint8_t>(15, 16), 0);
}

TEST(Postproc, ErosionShrinksAndRemovesThinParts) {
  cv::Mat m = cv::Mat::zeros(60, 60, CV_8U);
  m(cv::Rect(5, 5, 20, 20)) = 255;
  m(cv::Rect(40, 40, 10, 10)) = 255;
  cv::Mat e = erode_mask(m, 15, 15);
  EXPECT_EQ(white(e), 6 * 6);
  EXPECT_EQ(e.at<uint8_t>(45, 45), 0);
  EXPECT_EQ(e.at<uint8_t>(15, 15), 255);
}

TEST(Postproc, MinAreaDropsSmallRegions) {
  cv::Mat m = cv::Mat::zeros(30, 30, CV_8U);
  m(cv::Rect(1, 1, 2, 2)) = 255;    // 4 px
  m(cv::Rect(10, 10, 5, 5)) = 255;  // 25 px
  m.at<uint8_t>(15, 15) = 255;      // diagonal neighbour: joins the 25 px region (8-connected) -> 26
  cv::Mat r = remove_small_regions(m, 26);
  EXPECT_EQ(white(r), 26);
  EXPECT_EQ(r.at<uint8_t>(1, 1), 0);
  EXPECT_EQ(white(remove_small_regions(m, 27)), 0);
  EXPECT_EQ(white(remove_small_regions(m, 0)), 30);
}

TEST(Postproc, RegionsCarryBoxAreaScoresAndContour) {
  cv::Mat m = cv::Mat::zeros(30, 40, CV_8U);
  m(cv::Rect(2, 3, 4, 5)) = 255;
  m(cv::Rect(20, 10, 6, 6)) = 255;
  m.at<uint8_t>(16, 26) = 255;  // 8-connected to the second square
  cv::Mat map(30, 40, CV_32F, cv::Scalar(0.25f));
  map.at<float>(12, 22) = 0.9f;
  std::vector<Region> rs = find_regions(m, map);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].box, cv::Rect(2, 3, 4, 5));
  EXPECT_EQ(rs[0].area, 20);
  EXPECT_FLOAT_EQ(rs[0].max_score, 0.25f);
  EXPECT_EQ(rs[1].box, cv::Rect(20, 10, 7, 7));
  EXPECT_EQ(rs[1].area, 37);
  EXPECT_FLOAT_EQ(rs[1].max_score, 0.9f);
  EXPECT_NEAR(rs[1].mean_score, (36 * 0.25f + 0.9f) / 37.f, 1e-6);
  for (const auto& r : rs) {
    ASSERT_GE(r.contour.size(), 4u);
    for (const auto& p : r.contour) EXPECT_TRUE(r.box.contains(p));
  }
  EXPECT_TRUE(find_regions(cv::Mat::zeros(5, 5, CV_8U), cv::Mat()).empty());
}

// Dark background, brighter object in the middle (a walnut on its tray).
cv::Mat tray_frame() {
  cv::Mat f(80, 100, CV_8UC3, cv::Scalar(25, 20, 15));
  cv::circle(f, {50, 40}, 20, cv::Scalar(200, 150, 90), cv::FILLED);
  return f;
}

TEST(Postproc, ForegroundMaskIsTheBrightClusterDilated) {
  cv::Mat fg = foreground_mask(tray_frame(), 15);
  EXPECT_EQ(fg.at<uint8_t>(40, 50), 255);
  EXPECT_EQ(fg.at<uint8_t>(40, 75), 255);  // 5 px outside the object: within the 15x15 dilation
  EXPECT_EQ(fg.at<uint8_t>(5, 5), 0);
  cv::Mat undilated = foreground_mask(tray_frame(), 0);
  EXPECT_EQ(undilated.at<uint8_t>(40, 75), 0);
  // Same frame, same mask (fixed seed).
  EXPECT_EQ(cv::norm(fg, foreground_mask(tray_frame(), 15), cv::NORM_INF), 0.0);
}

TEST(Postproc, ForegroundAgreesWithPlainKmeansOnEveryPixel) {
  // A noisy frame: textured dark tray, textured bright object.
  cv::Mat f = tray_frame();
  cv::Mat noise(f.size(), CV_8UC3);
  cv::RNG rng(5);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 40);
  f += noise;
  cv::Mat fg = foreground_mask(f, 0);
  // Reference: cv::kmeans on all pixels' (H,V).
  cv::Mat hsv;
  cv::cvtColor(f, hsv, cv::COLOR_RGB2HSV);
  cv::Mat samples(static_cast<int>(hsv.total()), 2, CV_32F);
  for (int i = 0; i < samples.rows; ++i) {
    const cv::Vec3b p = hsv.at<cv::Vec3b>(i / hsv.cols, i % hsv.cols);
    samples.at<float>(i, 0) = p[0];
    samples.at<float>(i, 1) = p[2];
  }
  cv::Mat labels, centers;
  cv::theRNG().state = 1;
  cv::kmeans(samples, 2, labels, cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 300, 1e-4), 10,
             cv::KMEANS_PP_CENTERS, centers);
  const int bg = centers.at<float>(0, 1) <= centers.at<float>(1, 1) ? 0 : 1;
  int agree = 0;
  for (int i = 0; i < samples.rows; ++i)
    agree += (labels.at<int>(i) != bg) == (fg.at<uint8_t>(i / f.cols, i % f.cols) != 0);
  EXPECT_GE(agree, samples.rows * 999 / 1000) << agree << " of " << samples.rows;
}

TEST(Postproc, ChainGatesFillsErodesAndGivesAVerdict) {
  cv::Mat map = cv::Mat::zeros(80, 100, CV_32F);
  cv::Mat ringmask = cv::Mat::zeros(80, 100, CV_8U);
  ringmask(cv::Rect(40, 30, 20, 20)) = 255;
  ringmask(cv::Rect(43, 33, 14, 14)) = 0;  // a 3 px wall
  map.setTo(0.8f, ringmask);
  map(cv::Rect(2, 2, 6, 6)) = 0.9f;  // on the dark tray: the gate removes it
  PostprocSpec spec;
  spec.close_w = spec.close_h = 3;
  spec.fill_holes = true;
  spec.foreground_gate = true;
  Detection d = postprocess(map, 0.9f, 0.5, spec, tray_frame());
  ASSERT_EQ(d.regions.size(), 1u);
  EXPECT_EQ(d.regions[0].box, cv::Rect(40, 30, 20, 20));
  EXPECT_EQ(d.regions[0].area, 400);  // the ring's inside is filled
  EXPECT_TRUE(d.anomalous);
  EXPECT_FLOAT_EQ(d.score, 0.9f);
  EXPECT_FLOAT_EQ(d.image_score, 0.9f);
  // Without the gate the tray detection stays; min_area then drops it (36 px).
  spec.foreground_gate = false;
  EXPECT_EQ(postprocess(map, 0.9f, 0.5, spec).regions.size(), 2u);
  spec.min_area = 50;
  EXPECT_EQ(postprocess(map, 0.9f, 0.5, spec).regions.size(), 1u);
  // Erosion 15x15 (fruit_jelly) leaves the 20x20 filled square's 6x6 core.
  spec.erode_w = spec.erode_h = 15;
  spec.min_area = 0;
  Detection e = postprocess(map, 0.9f, 0.5, spec);
  ASSERT_EQ(e.regions.size(), 1u);
  EXPECT_EQ(e.regions[0].area, 36);
  // Nothing above threshold: clean verdict.
  Detection clean = postprocess(map, 0.9f, 0.95, PostprocSpec{});
  EXPECT_FALSE(clean.anomalous);
  EXPECT_EQ(white(clean.mask), 0);
  // Gate without a frame is a clear error.
  spec.foreground_gate = true;
  EXPECT_THROW(postprocess(map, 0.9f, 0.5, spec), InputError);
}

TEST(Postproc, BlurBeforeThreshold) {
  cv::Mat map = cv::Mat::zeros(21, 21, CV_32F);
  map.at<float>(10, 10) = 1.0f;
  PostprocSpec spec;
  EXPECT_EQ(white(postprocess(map, 1.f, 0.5, spec).mask), 1);
  spec.blur_ksize = 5;
  spec.blur_sigma = 4;
  EXPECT_EQ(white(postprocess(map, 1.f, 0.5, spec).mask), 0);  // a lone spike is smoothed away
  // The caller's map is left as it was (it is shared between elements and the overlay), so a
  // second call blurs the original again and gives the same answer.
  EXPECT_EQ(map.at<float>(10, 10), 1.0f);
  EXPECT_EQ(cv::countNonZero(map), 1);
  spec.blur_sigma = 0.5;  // a narrow blur keeps the spike above 0.5
  const Detection first = postprocess(map, 1.f, 0.5, spec);
  const Detection second = postprocess(map, 1.f, 0.5, spec);
  EXPECT_EQ(white(first.mask), 1);
  EXPECT_EQ(first.score, second.score);
  EXPECT_EQ(white(second.mask), 1);
}

TEST(Postprocess, ScoreIsOnTheThresholdScaleAndTheMethodScoreStaysApart) {
  // A CPR-like frame: per-pixel map values near 0.5, an image score of 211
  // (a sum of the top pixels) on another scale.
  cv::Mat map(60, 80, CV_32F, cv::Scalar(0.1f));
  map(cv::Rect(30, 20, 3, 3)) = 0.62f;
  for (double threshold : {0.4, 0.7}) {
    SCOPED_TRACE(threshold);
    const Detection d = postprocess(map, 211.f, threshold, PostprocSpec());
    EXPECT_FLOAT_EQ(d.score, 0.62f) << "the map's maximum";
    EXPECT_FLOAT_EQ(d.image_score, 211.f);
    EXPECT_EQ(d.anomalous, threshold < 0.62);
    if (d.anomalous) EXPECT_GE(d.score, threshold) << "a region implies score >= threshold";
    else EXPECT_LT(d.score, threshold);
  }
  // With a blur, the score is the maximum of the blurred map that was thresholded.
  PostprocSpec blur;
  blur.blur_ksize = 5;
  blur.blur_sigma = 2;
  const Detection b = postprocess(map, 211.f, 0.3, blur);
  EXPECT_LT(b.score, 0.62f);
  EXPECT_GT(b.score, 0.3f);
  EXPECT_TRUE(b.anomalous);
}

}  // namespace
}  // namespace advad
