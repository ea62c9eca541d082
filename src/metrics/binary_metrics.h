// Threshold-dependent metrics of the MVTec AD 2 server, from binarized maps:
//  SegF1: pixel F1 with TP/FP/FN pooled over all pixels of all images of one
//         object and split, good images included (not a mean of per-image F1).
//  ClassF1: an image is predicted anomalous iff its binary map has any
//         positive pixel, truly anomalous iff its mask has any; F1 over images.
// And the image-level ROC AUC with the map's maximum as the image score.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace advad {

struct F1Counts {
  uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  // 2TP / (2TP + FP + FN); 0 when nothing is positive at all (nothing predicted, nothing true).
  double f1() const;
  double precision() const;  // NaN when nothing is predicted
  double recall() const;     // NaN when nothing is truly positive
};

class BinaryAccumulator {
 public:
  // pred, gt: CV_8UC1 of one size (non-zero = anomalous); gt may be empty (good image).
  // InputError naming `name` on a size mismatch.
  void add(const cv::Mat& pred, const cv::Mat& gt, const std::string& name = "");
  const F1Counts& pixels() const { return pixels_; }
  const F1Counts& images() const { return images_; }
  const std::vector<bool>& predicted_anomalous() const { return predicted_; }

 private:
  F1Counts pixels_, images_;
  std::vector<bool> predicted_;
};

// ROC AUC of scores against binary labels, exact (ties count one half, which
// equals the trapezoid over the tie-collapsed ROC curve). NaN when one class is missing.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& labels);

}  // namespace advad
