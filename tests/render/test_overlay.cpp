// draw_overlay: heatmap / contours / boxes / label land where they should, in
// every pixel format, and alpha bytes stay untouched.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

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
  draw_overlay(gray, PixelFormat::GRAY8, s.content(), style);
  EXPECT_GT(cv::countNonZero(gray != 100), 1000);
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
  const OverlayStyle st = overlay_style_from(spec);
  EXPECT_DOUBLE_EQ(st.opacity, 0.2);
  EXPECT_EQ(st.colormap, cv::COLORMAP_INFERNO);
  EXPECT_FALSE(st.boxes);
  EXPECT_TRUE(st.heatmap);
}

}  // namespace
}  // namespace advad
