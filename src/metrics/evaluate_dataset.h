// Evaluates predicted maps against a dataset's ground truth, object by object,
// reading files one image at a time (memory: one image plus the accumulators).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "metrics/object_eval.h"

namespace advad {

struct EvalRequest {
  std::string dataset_root;              // <root>/<category>/... (MVTec AD 2 or AD v1)
  // Predictions: a folder with anomaly_images/ (+ anomaly_images_thresholded/),
  // as advad predict writes, or a folder holding <category>/<split>/... maps directly.
  std::string maps_dir;
  std::string binary_dir;                // "" = <maps_dir>/anomaly_images_thresholded when it exists
  std::vector<std::string> categories;   // empty = every category of the dataset that has maps
  std::string split;                     // "" = test_public (AD 2) or test (AD v1)
  std::optional<double> threshold;       // binarize maps at this score (>=) instead of reading binary PNGs
  bool use_binary = true;                // false: no SegF1 / ClassF1
  PixelOptions pixel;
  std::function<void(const std::string& category, size_t done, size_t total)> progress;
  // Unset: an unreadable or corrupt file (image, map, mask, binary map) is an
  // InputError. Set: it is reported here (file, reason) and its sample is left
  // out of the metrics; the callback may throw to stop.
  std::function<void(const std::string& file, const std::string& why)> on_unreadable;
};

// Where a map / binary map of a sample is looked for ("" for binary when none).
struct MapLocations {
  std::string maps_root, binary_root;
};
MapLocations locate_maps(const EvalRequest& request);

// The map file of sample `rel` under maps_root: <rel>.tiff, .tif or .png.
// InputError naming the expected path (and advad predict) when none exists.
std::string find_map_file(const std::string& maps_root, const std::string& rel);

// One result per category, in order. InputError for missing files, labelled
// data without ground truth (private splits), size mismatches, NaN.
std::vector<ObjectResult> evaluate_dataset(const EvalRequest& request);

}  // namespace advad
