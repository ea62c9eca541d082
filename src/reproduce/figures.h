// The per-category pictures of a reproduce report, made from the files the
// steps wrote: overlay examples of test_public defects (ground truth in
// green, the binary map in red, the anomaly map as a heatmap) and the pixel
// F1 of the raw map against the threshold, with the calibrated one marked.
#pragma once
#include <string>

namespace advad::reproduce {

struct FigureInputs {
  std::string dataset, category;
  std::string predictions;  // advad predict --out (anomaly_images/, anomaly_images_thresholded/)
  std::string package;      // for the overlay style
  std::string out_dir;      // <run>/<category>/figures
  double threshold = 0.5;   // the calibrated threshold
  int examples = 3;
};

// Writes out_dir/example_N.png, out_dir/threshold_f1.png and
// out_dir/threshold_f1.json ({threshold, f1_at_threshold, best_threshold,
// best_f1}). Returns a one-line note. InputError naming a missing map.
std::string write_category_figures(const FigureInputs& in);

}  // namespace advad::reproduce
