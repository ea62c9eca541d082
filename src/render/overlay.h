// Drawing a frame's anomaly results onto the frame itself, in the frame's own
// pixel format (RGB/BGR/RGBx/.../GRAY8), in place: heatmap, region contours,
// boxes, and a score/verdict label.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>

#include "core/postproc.h"
#include "core/profile.h"
#include "core/tile_layout.h"

namespace advad {

struct OverlayStyle {
  double opacity = 0.45;  // heatmap alpha in [0, 1]
  int colormap = cv::COLORMAP_JET;  // cv::COLORMAP_* id, see advad::colormap_id()
  bool heatmap = true;
  bool contours = true;
  bool boxes = true;
  bool label = true;
  // Score that maps to the top colour of the heatmap; 0 scores map to the
  // bottom. <= 0: twice the threshold, so the threshold sits mid-scale.
  double full_scale = 0.0;
  // The heatmap is drawn only where the map is >= this score, so a normal
  // frame shows the camera image. Unset: half the frame's threshold. 0: every
  // pixel whose score is >= 0.
  std::optional<double> heatmap_floor;
};

// Floor actually used for a frame: style.heatmap_floor, else threshold / 2
// (never below 0).
double heatmap_floor_for(const OverlayStyle& style, double threshold);

// Line width of contours and boxes, label font scale and text thickness for a
// frame of this size: proportional to the frame's shorter side, so drawings
// keep their look (and the label its share of the frame) from 640x480 to 4K.
struct OverlayMetrics {
  int line_width = 1;
  double font_scale = 0.5;
  int text_thickness = 1;
};
OverlayMetrics overlay_metrics(const cv::Size& frame);

// The style a profile's [overlay] group asks for (heatmap_floor included).
// Throws ProfileError on an unknown colormap name.
OverlayStyle overlay_style_from(const OverlaySpec& spec);

// What to draw for one frame. Any pointer may be null (nothing of it drawn).
struct OverlayContent {
  const cv::Mat* map = nullptr;            // CV_32F score map (resized to the frame if needed); empty: no heatmap
  const Detection* detection = nullptr;    // mask regions; verdict and score for the label
  float score = 0.f;                       // map maximum, shown when there is no detection
  double threshold = 0.0;                  // for the heatmap scale and floor (see full_scale, heatmap_floor)
  bool carried = false;                    // result held from an earlier frame (label says so)
  std::string unscored;                    // why the frame has no usable map ("" = scored); label says so
};

// The label text, e.g. "DEFECT 0.734" / "OK 0.120" (+ " held" when carried),
// "UNSCORED non-finite" for a frame without a usable map.
std::string overlay_label(const OverlayContent& content);

// Draw onto `frame` (8-bit, channels as `format` says), in place. Alpha / x
// bytes are left untouched; GRAY8 frames get the heatmap's luminance.
void draw_overlay(cv::Mat& frame, PixelFormat format, const OverlayContent& content, const OverlayStyle& style);

}  // namespace advad
