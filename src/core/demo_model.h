// A small, real anomaly scorer for demos and tests: per-pixel deviation of the
// image from its local mean, as a TorchScript module built in C++ (no Python,
// no training), plus synthetic frames with a planted defect it finds.
#pragma once
#include <opencv2/core.hpp>
#include <cstdint>
#include <string>

#include "core/profile.h"

namespace advad {

struct DemoOptions {
  int input_size = 256;         // model input side (tiles are resized to input_size x input_size)
  int window = 31;              // odd side of the local-mean window, model input pixels
  double contrast = 40.0;       // gray-level deviation (0..255 units) that scores 1.0
  std::vector<GridLevel> levels{GridLevel{2, 2}};  // tiling of the demo profile
  double overlap = 0.0;         // > 0: tiles share this fraction, merged by mean with Hann blending (no seams)
  double threshold = 0.5;       // score >= threshold is a defect (0.5 = 20 gray levels at contrast 40)
  int min_area = 16;            // post-processing: drop tiny regions
};

// The TorchScript scorer as a saved module file (map = clamp(|gray - localmean| * 255 / contrast, 0, 1)).
void write_demo_scorer(const std::string& file, const DemoOptions& options = {});

// Writes `dir`/model.pt and `dir`/profile.ini (method = torchscript), creating dir.
// Returns the profile's path.
std::string write_demo_package(const std::string& dir, const DemoOptions& options = {});

// The profile write_demo_package stores, with model = `model_file`.
Profile demo_profile(const std::string& model_file, const DemoOptions& options = {});

// An 8-bit RGB (CV_8UC3, R first) frame of smooth texture (low-frequency waves +
// mild noise). With a defect, a bright or dark blob (about 60 gray levels off)
// is planted at a seed-dependent place; its bounding box goes to *defect_box.
cv::Mat make_synthetic_frame(int w, int h, bool with_defect, uint32_t seed, cv::Rect* defect_box = nullptr);

}  // namespace advad
