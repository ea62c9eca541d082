#include "render/overlay.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace advad {
namespace {

// Byte offsets of B, G, R inside one pixel of a colour format.
std::array<int, 3> bgr_offsets(PixelFormat f) {
  switch (f) {
    case PixelFormat::RGB: return {2, 1, 0};
    case PixelFormat::BGR: return {0, 1, 2};
    case PixelFormat::RGBx:
    case PixelFormat::RGBA: return {2, 1, 0};
    case PixelFormat::BGRx:
    case PixelFormat::BGRA: return {0, 1, 2};
    case PixelFormat::xRGB:
    case PixelFormat::ARGB: return {3, 2, 1};
    case PixelFormat::xBGR:
    case PixelFormat::ABGR: return {1, 2, 3};
    case PixelFormat::GRAY8: break;
  }
  return {0, 0, 0};
}

// Copies the colour bytes of `frame` into a BGR image, or back.
void frame_to_bgr(const cv::Mat& frame, PixelFormat f, cv::Mat& bgr) {
  if (f == PixelFormat::GRAY8) {
    cv::cvtColor(frame, bgr, cv::COLOR_GRAY2BGR);
    return;
  }
  bgr.create(frame.size(), CV_8UC3);
  const auto off = bgr_offsets(f);
  const int from_to[] = {off[0], 0, off[1], 1, off[2], 2};
  cv::mixChannels(&frame, 1, &bgr, 1, from_to, 3);
}

void bgr_to_frame(const cv::Mat& bgr, PixelFormat f, cv::Mat& frame) {
  if (f == PixelFormat::GRAY8) {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    gray.copyTo(frame);
    return;
  }
  const auto off = bgr_offsets(f);
  const int from_to[] = {0, off[0], 1, off[1], 2, off[2]};
  cv::mixChannels(&bgr, 1, &frame, 1, from_to, 3);
}

void blend_heatmap(cv::Mat& bgr, const cv::Mat& map, double threshold, const OverlayStyle& style) {
  cv::Mat m = map;
  if (m.size() != bgr.size()) cv::resize(map, m, bgr.size(), 0, 0, cv::INTER_LINEAR);
  const cv::Mat above = m >= heatmap_floor_for(style, threshold);  // NaN scores stay undrawn
  if (cv::countNonZero(above) == 0) return;
  double scale = style.full_scale;
  if (scale <= 0) scale = 2.0 * threshold;
  if (scale <= 0) cv::minMaxLoc(m, nullptr, &scale);
  if (scale <= 0) scale = 1.0;
  cv::Mat levels;
  m.convertTo(levels, CV_8U, 255.0 / scale);  // saturates outside [0, scale]
  cv::Mat colour;
  cv::applyColorMap(levels, colour, style.colormap);
  const double a = std::clamp(style.opacity, 0.0, 1.0);
  cv::Mat blended;
  cv::addWeighted(bgr, 1.0 - a, colour, a, 0.0, blended);
  blended.copyTo(bgr, above);
}

void draw_label(cv::Mat& bgr, const OverlayContent& c, const OverlayMetrics& mt) {
  const std::string text = overlay_label(c);
  const bool defect = c.detection && c.detection->anomalous;
  const double font_scale = mt.font_scale;
  const int thick = mt.text_thickness;
  int base = 0;
  const cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font_scale, thick, &base);
  const int pad = std::max(2, ts.height / 3);
  const cv::Rect box(0, 0, std::min(bgr.cols, ts.width + 2 * pad), std::min(bgr.rows, ts.height + base + 2 * pad));
  const cv::Scalar fill = !c.unscored.empty() ? cv::Scalar(0, 120, 200) : defect ? cv::Scalar(0, 0, 170)
                                                                               : cv::Scalar(0, 110, 0);
  cv::rectangle(bgr, box, fill, cv::FILLED);
  cv::putText(bgr, text, cv::Point(pad, pad + ts.height), cv::FONT_HERSHEY_SIMPLEX, font_scale,
              cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
}

}  // namespace

double heatmap_floor_for(const OverlayStyle& style, double threshold) {
  return std::max(0.0, style.heatmap_floor ? *style.heatmap_floor : 0.5 * threshold);
}

OverlayMetrics overlay_metrics(const cv::Size& frame) {
  // Reference: a 720-pixel shorter side gets 3-pixel lines and font scale 1
  // (Hershey simplex glyphs about 22 px high, 3 % of the side).
  const double side = std::max(1, std::min(frame.width, frame.height));
  OverlayMetrics m;
  m.line_width = std::max(1, static_cast<int>(std::lround(side / 240.0)));
  m.font_scale = std::max(0.3, side / 720.0);
  m.text_thickness = std::max(1, static_cast<int>(std::lround(side / 360.0)));
  return m;
}

OverlayStyle overlay_style_from(const OverlaySpec& spec) {
  OverlayStyle s;
  s.opacity = spec.opacity;
  s.colormap = colormap_id(spec.colormap);
  s.heatmap = spec.heatmap;
  s.contours = spec.contours;
  s.boxes = spec.boxes;
  s.label = spec.label;
  s.heatmap_floor = spec.heatmap_floor;
  return s;
}

std::string overlay_label(const OverlayContent& c) {
  if (!c.unscored.empty()) return "UNSCORED " + c.unscored + (c.carried ? " held" : "");
  const float score = c.detection ? c.detection->score : c.score;
  const char* verdict = c.detection ? (c.detection->anomalous ? "DEFECT" : "OK") : "SCORE";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %.3f%s", verdict, static_cast<double>(score), c.carried ? " held" : "");
  return buf;
}

void draw_overlay(cv::Mat& frame, PixelFormat format, const OverlayContent& content, const OverlayStyle& style) {
  if (frame.depth() != CV_8U || frame.channels() != channels_of(format))
    throw InputError("draw_overlay: frame has " + std::to_string(frame.channels()) +
                     " channels, the pixel format needs " + std::to_string(channels_of(format)));
  cv::Mat bgr;
  frame_to_bgr(frame, format, bgr);
  if (style.heatmap && content.map && !content.map->empty()) blend_heatmap(bgr, *content.map, content.threshold, style);
  const OverlayMetrics mt = overlay_metrics(bgr.size());
  const int lw = mt.line_width;
  if (content.detection) {
    if (style.contours) {
      std::vector<std::vector<cv::Point>> contours;
      for (const auto& r : content.detection->regions)
        if (!r.contour.empty()) contours.push_back(r.contour);
      // A dark rim under the red line keeps it visible on the heatmap's reds.
      cv::drawContours(bgr, contours, -1, cv::Scalar(0, 0, 0), lw + 2 * std::max(1, lw / 3), cv::LINE_8);
      cv::drawContours(bgr, contours, -1, cv::Scalar(0, 0, 255), lw, cv::LINE_8);
    }
    if (style.boxes)
      for (const auto& r : content.detection->regions)
        cv::rectangle(bgr, r.box, cv::Scalar(0, 255, 255), lw, cv::LINE_8);
  }
  if (style.label && (content.detection || content.map)) draw_label(bgr, content, mt);
  bgr_to_frame(bgr, format, frame);
}

}  // namespace advad
