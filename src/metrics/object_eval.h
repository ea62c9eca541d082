// All metrics of one object (category) and split, fed image by image:
// AU-PRO at each limit, pixel AUROC, image AUROC (map maximum), and SegF1 /
// ClassF1 when binary maps are given.
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "metrics/binary_metrics.h"
#include "metrics/pixel_metrics.h"

namespace advad {

struct ObjectResult {
  std::string object, split;
  size_t images = 0, anomalous_images = 0;
  PixelMetrics pixel;
  bool has_binary = false;  // SegF1 / ClassF1 computed (binary maps were given)
  F1Counts seg, cls;        // pixel and image counts
  double image_auroc = 0.0;  // NaN without both good and anomalous images
  double seg_f1() const;     // NaN when !has_binary
  double class_f1() const;
};

class ObjectEvaluator {
 public:
  ObjectEvaluator(std::string object, std::string split, PixelOptions options = {});
  // map: CV_32FC1; gt: CV_8UC1 mask (non-zero = defect) or empty for a good
  // image; pred: CV_8UC1 binary map or empty. Either every image has a binary
  // map or none does (InputError otherwise). `name` names the image in errors.
  void add(const cv::Mat& map, const cv::Mat& gt, const cv::Mat& pred, const std::string& name = "");
  // The same with float16 bit patterns (CV_16UC1) as the map.
  void add_half(const cv::Mat& half_bits, const cv::Mat& gt, const cv::Mat& pred, const std::string& name = "");
  ObjectResult finish();
  size_t bytes_held() const { return pixels_.bytes_held(); }

 private:
  void add_common(double image_score, const cv::Mat& gt, const cv::Mat& pred, const std::string& name);
  std::string object_, split_;
  PixelAccumulator pixels_;
  BinaryAccumulator binary_;
  std::vector<double> image_scores_;
  std::vector<bool> image_labels_;
  int with_pred_ = 0, without_pred_ = 0;
};

// Unweighted mean over objects of one metric (NaN entries skipped; NaN if none).
double mean_over(const std::vector<ObjectResult>& results, double (*metric)(const ObjectResult&));

}  // namespace advad
