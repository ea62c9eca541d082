// draw_overlay: heatmap / contours / boxes / label land where they should, in
// every pixel format, and alpha bytes stay untouched.
#include <gtest/gtest.h>

#include <array>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "core/error.h"
#include "render/overlay.h"

namespace advad {
namespace {

// A map that is high in a square, a detection with that square as region.
struct Scene {
  cv::Mat map = cv::Mat(60, 80, CV_32F, cv::Scalar(0.f));
  Detection det;
  cv::Rect box{40, 20, 16, 12};
  Scene() {
    map(box).setTo(1.f);
    Region r;
    r.box = box;
    r.area = box.area();
    r.max_score = r.mean_score = 1.f;
    r.contour = {box.tl(), {box.x + box.width - 1, box.y}, box.br() - cv::Point(1, 1), {box.x, box.y + box.height - 1}};
    det.regions.push_back(r);
    det.anomalous = true;
    det.score = 1.f;
    det.mask = cv::Mat(map.size(), CV_8U, cv::Scalar(0));
    det.mask(box).setTo(255);
  }
  OverlayContent content() const {
    OverlayContent c;
    c.map = &map;
    c.detection = &det;
    c.threshold = 0.5;
    return c;
  }
};

TEST(Overlay, HeatmapColoursHighScoresDifferentlyFromLowOnes) {
  Scene s;
  cv::Mat frame(60, 80, CV_8UC3, cv::Scalar(128, 128, 128));
  OverlayStyle style;
  style.contours = style.boxes = style.label = false;
  style.opacity = 1.0;
  style.heatmap_floor = 0.0;  // colour every pixel, the zeros too
  draw_overlay(frame, PixelFormat::RGB, s.content(), style);
  // Opacity 1: pure colormap. jet: 0 -> dark blue, >= full scale -> dark red (RGB order here).
  const cv::Vec3b low = frame.at<cv::Vec3b>(5, 5), high = frame.at<cv::Vec3b>(25, 45);
  EXPECT_GT(low[2], 100);  // blue
  EXPECT_LT(low[0], 30);
  EXPECT_GT(high[0], 100);  // red
  EXPECT_LT(high[2], 30);
}

TEST(Overlay, OpacityZeroLeavesThePixelsAndBoxesAreDrawnOnTheRegion) {
  Scene s;
  cv::Mat frame(60, 80, CV_8UC3, cv::Scalar(10, 20, 30));
  const cv::Mat before = frame.clone();
  OverlayStyle style;
  style.opacity = 0.0;
  style.contours = style.label = false;
  draw_overlay(frame, PixelFormat::BGR, s.content(), style);
  cv::Mat diff;
  cv::absdiff(frame, before, diff);
  cv::Mat any;
  cv::transform(diff, any, cv::Matx13f(1, 1, 1));
  // Only the box outline changed: its pixels lie on the region's border.
  std::vector<cv::Point> changed;
  cv::findNonZero(any > 0, changed);
  ASSERT_FALSE(changed.empty());
  for (const auto& p : changed) {
    const bool on_border = p.x == s.box.x || p.y == s.box.y || p.x == s.box.br().x - 1 || p.y == s.box.br().y - 1;
    EXPECT_TRUE(on_border) << p;
  }
}

TEST(Overlay, EveryFormatKeepsAlphaAndGrayGetsLuminance) {
  Scene s;
  OverlayStyle style;
  for (auto f : {PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::ARGB, PixelFormat::ABGR, PixelFormat::RGBx,
                 PixelFormat::xBGR}) {
    cv::Mat frame(60, 80, CV_8UC4, cv::Scalar(100, 100, 100, 100));
    const int alpha = (f == PixelFormat::ARGB || f == PixelFormat::ABGR || f == PixelFormat::xBGR) ? 0 : 3;
    frame.forEach<cv::Vec4b>([&](cv::Vec4b& p, const int*) { p[alpha] = 77; });
    draw_overlay(frame, f, s.content(), style);
    std::vector<cv::Mat> ch;
    cv::split(frame, ch);
    EXPECT_EQ(cv::countNonZero(ch[static_cast<size_t>(alpha)] != 77), 0) << "alpha/x untouched";
    EXPECT_GT(cv::countNonZero(ch[alpha == 0 ? 1 : 0] != 100), 0) << "colour drawn";
  }
  cv::Mat gray(60, 80, CV_8UC1, cv::Scalar(100));
  style.contours = style.boxes = style.label = false;
  draw_overlay(gray, PixelFormat::GRAY8, s.content(), style);
  EXPECT_EQ(cv::countNonZero(gray(s.box) != 100), s.box.area()) << "heatmap luminance on the region";
  EXPECT_EQ(cv::countNonZero(gray != 100), s.box.area()) << "nothing below the floor";
}

// A map with a 0.2 patch, a 0.3 patch and the 1.0 region, threshold 0.5.
struct FloorScene : Scene {
  cv::Rect low{2, 40, 10, 10}, mid{20, 40, 10, 10};
  FloorScene() {
    map(low).setTo(0.2f);
    map(mid).setTo(0.3f);
  }
  // Which patches changed after drawing the heatmap alone with `floor`.
  std::array<bool, 4> changed(std::optional<double> floor) const {
    cv::Mat frame(60, 80, CV_8UC3, cv::Scalar(90, 90, 90));
    OverlayStyle style;
    style.contours = style.boxes = style.label = false;
    style.heatmap_floor = floor;
    draw_overlay(frame, PixelFormat::BGR, content(), style);
    auto touched = [&](const cv::Rect& r) {
      cv::Mat d;
      cv::absdiff(frame(r), cv::Scalar(90, 90, 90), d);
      return cv::countNonZero(d.reshape(1)) > 0;
    };
    return {touched({60, 2, 10, 10}), touched(low), touched(mid), touched(box)};  // zero, 0.2, 0.3, 1.0
  }
};

TEST(Overlay, HeatmapFloorDefaultsToHalfTheThreshold) {
  const FloorScene s;
  // threshold 0.5 -> floor 0.25: the zeros and 0.2 look like the camera image.
  EXPECT_EQ(s.changed(std::nullopt), (std::array<bool, 4>{false, false, true, true}));
  EXPECT_DOUBLE_EQ(heatmap_floor_for(OverlayStyle(), 0.5), 0.25);
  EXPECT_DOUBLE_EQ(heatmap_floor_for(OverlayStyle(), -3.0), 0.0);
}

TEST(Overlay, HeatmapFloorGivenExplicitlyWins) {
  const FloorScene s;
  EXPECT_EQ(s.changed(0.5), (std::array<bool, 4>{false, false, false, true}));
  EXPECT_EQ(s.changed(0.0), (std::array<bool, 4>{true, true, true, true}));
  EXPECT_EQ(s.changed(2.0), (std::array<bool, 4>{false, false, false, false}));
}

TEST(Overlay, NormalFrameLooksLikeTheCameraImage) {
  // A clean frame: the map is low everywhere, no region. Only the label is drawn.
  cv::Mat map(480, 640, CV_32F, cv::Scalar(0.1f));
  Detection det;
  det.score = 0.1f;
  det.mask = cv::Mat(map.size(), CV_8U, cv::Scalar(0));
  OverlayContent c;
  c.map = &map;
  c.detection = &det;
  c.threshold = 0.5;
  cv::Mat frame(480, 640, CV_8UC3, cv::Scalar(40, 120, 200));
  draw_overlay(frame, PixelFormat::RGB, c, OverlayStyle());
  cv::Mat d;
  cv::absdiff(frame, cv::Scalar(40, 120, 200), d);
  cv::Mat any = d.reshape(1, static_cast<int>(d.total())) != 0;
  const int changed = cv::countNonZero(any);
  EXPECT_GT(changed, 0) << "the label";
  EXPECT_LT(changed, 640 * 480 * 3 / 20) << "no heatmap tint over the frame";
  EXPECT_EQ(cv::countNonZero(d(cv::Rect(0, 240, 640, 240)).reshape(1)), 0) << "lower half untouched";
}

TEST(Overlay, MetricsAreProportionalToTheShorterSide) {
  const OverlayMetrics vga = overlay_metrics({640, 480}), uhd = overlay_metrics({3840, 2160});
  EXPECT_EQ(overlay_metrics({480, 640}).line_width, vga.line_width) << "portrait = landscape";
  EXPECT_DOUBLE_EQ(overlay_metrics({480, 640}).font_scale, vga.font_scale);
  EXPECT_GE(vga.line_width, 2);
  EXPECT_NEAR(uhd.font_scale / vga.font_scale, 2160.0 / 480.0, 1e-9);
  EXPECT_NEAR(static_cast<double>(uhd.line_width) / vga.line_width, 4.5, 0.5);
  EXPECT_NEAR(static_cast<double>(uhd.text_thickness) / vga.text_thickness, 4.5, 1.6);
  for (const cv::Size sz : {cv::Size(640, 480), cv::Size(1280, 720), cv::Size(1920, 1080), cv::Size(3840, 2160)}) {
    const OverlayMetrics m = overlay_metrics(sz);
    EXPECT_NEAR(m.line_width, std::min(sz.width, sz.height) / 240.0, 0.5) << sz;
  }
  EXPECT_GE(overlay_metrics({8, 8}).line_width, 1);
  EXPECT_GT(overlay_metrics({8, 8}).font_scale, 0.0);
}

// Height of the label's filled box (top-left, solid colour) in a drawn frame.
int label_box_height(const cv::Mat& rgb) {
  const cv::Vec3b corner = rgb.at<cv::Vec3b>(0, 0);
  int h = 0;
  while (h < rgb.rows && rgb.at<cv::Vec3b>(h, 0) == corner) ++h;
  return h;
}

TEST(Overlay, LabelAndLinesKeepTheirShareOfTheFrameFromVgaTo4K) {
  double share[2];
  int line[2];
  int i = 0;
  for (const cv::Size sz : {cv::Size(640, 480), cv::Size(3840, 2160)}) {
    SCOPED_TRACE(sz);
    cv::Mat map(sz, CV_32F, cv::Scalar(0.f));
    const cv::Rect box(sz.width / 2, sz.height / 2, sz.width / 8, sz.height / 8);
    map(box).setTo(1.f);
    Detection det;
    det.anomalous = true;
    det.score = 1.f;
    Region r;
    r.box = box;
    det.regions.push_back(r);
    OverlayContent c;
    c.map = &map;
    c.detection = &det;
    c.threshold = 0.5;
    OverlayStyle style;
    style.heatmap = style.contours = false;
    cv::Mat frame(sz, CV_8UC3, cv::Scalar(128, 128, 128));
    draw_overlay(frame, PixelFormat::RGB, c, style);
    const int h = label_box_height(frame);
    share[i] = static_cast<double>(h) / std::min(sz.width, sz.height);
    EXPECT_GE(h, 16) << "legible label";
    // The box's top edge: count rows of the box colour at the middle of its top side.
    const int x = box.x + box.width / 2;
    int y0 = box.y - 20, n = 0;
    for (int y = std::max(0, y0); y < box.y + 20; ++y) n += frame.at<cv::Vec3b>(y, x) == cv::Vec3b(255, 255, 0);
    line[i] = n;
    ++i;
  }
  EXPECT_NEAR(share[1] / share[0], 1.0, 0.25) << share[0] << " vs " << share[1];
  EXPECT_GE(line[0], 2);
  EXPECT_NEAR(static_cast<double>(line[1]) / line[0], 4.5, 1.0) << line[0] << " vs " << line[1];
}

TEST(Overlay, LabelNamesVerdictScoreAndHeldResults) {
  Scene s;
  OverlayContent c = s.content();
  EXPECT_EQ(overlay_label(c), "DEFECT 1.000");
  c.carried = true;
  s.det.anomalous = false;
  s.det.score = 0.25f;
  EXPECT_EQ(overlay_label(c), "OK 0.250 held");
  c.detection = nullptr;
  c.score = 0.5f;
  c.carried = false;
  EXPECT_EQ(overlay_label(c), "SCORE 0.500");
}

TEST(Overlay, WrongChannelCountIsAnInputError) {
  Scene s;
  cv::Mat frame(60, 80, CV_8UC3);
  EXPECT_THROW(draw_overlay(frame, PixelFormat::RGBA, s.content(), OverlayStyle()), InputError);
}

TEST(Overlay, StyleComesFromTheProfileOverlayGroup) {
  OverlaySpec spec;
  spec.opacity = 0.2;
  spec.colormap = "inferno";
  spec.boxes = false;
  EXPECT_FALSE(overlay_style_from(spec).heatmap_floor.has_value());
  spec.heatmap_floor = 0.125;
  const OverlayStyle st = overlay_style_from(spec);
  ASSERT_TRUE(st.heatmap_floor.has_value());
  EXPECT_DOUBLE_EQ(*st.heatmap_floor, 0.125);
  EXPECT_DOUBLE_EQ(st.opacity, 0.2);
  EXPECT_EQ(st.colormap, cv::COLORMAP_INFERNO);
  EXPECT_FALSE(st.boxes);
  EXPECT_TRUE(st.heatmap);
}

}  // namespace
}  // namespace advad
