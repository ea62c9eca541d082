// Drawing a frame's anomaly results onto the frame itself, in the frame's own
// pixel format (RGB/BGR/RGBx/.../GRAY8), in place: heatmap, region contours,
// boxes, and a score/verdict label.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
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
};

// The style a profile's [overlay] group asks for. Throws ProfileError on an
// unknown colormap name.
OverlayStyle overlay_style_from(const OverlaySpec& spec);

// What to draw for one frame. Any pointer may be null (nothing of it drawn).
struct OverlayContent {
  const cv::Mat* map = nullptr;            // CV_32F score map (resized to the frame if needed)
  const Detection* detection = nullptr;    // mask regions; verdict and score for the label
  float score = 0.f;                       // frame score when there is no detection
  double threshold = 0.0;                  // for the heatmap scale (see full_scale)
  bool carried = false;                    // result held from an earlier frame (label says so)
};

// The label text, e.g. "DEFECT 0.734" / "OK 0.120" (+ " held" when carried).
std::string overlay_label(const OverlayContent& content);

// Draw onto `frame` (8-bit, channels as `format` says), in place. Alpha / x
// bytes are left untouched; GRAY8 frames get the heatmap's luminance.
void draw_overlay(cv::Mat& frame, PixelFormat format, const OverlayContent& content, const OverlayStyle& style);

}  // namespace advad
