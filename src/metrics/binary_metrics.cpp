#include "metrics/binary_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace advad {

double F1Counts::f1() const {
  const double d = 2.0 * static_cast<double>(tp) + static_cast<double>(fp) + static_cast<double>(fn);
  return d == 0.0 ? 0.0 : 2.0 * static_cast<double>(tp) / d;
}
double F1Counts::precision() const {
  return tp + fp == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(tp) / static_cast<double>(tp + fp);
}
double F1Counts::recall() const {
  return tp + fn == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(tp) / static_cast<double>(tp + fn);
}

void BinaryAccumulator::add(const cv::Mat& pred, const cv::Mat& gt, const std::string& name) {
  const std::string what = name.empty() ? "a binary map" : "binary map " + name;
  if (pred.empty() || pred.type() != CV_8UC1) throw InputError(what + " must be a non-empty 8-bit single-channel image");
  if (!gt.empty() && gt.size() != pred.size())
    throw InputError(what + " is " + std::to_string(pred.cols) + "x" + std::to_string(pred.rows) + " but its ground truth is " +
                     std::to_string(gt.cols) + "x" + std::to_string(gt.rows));
  const uint64_t n = static_cast<uint64_t>(pred.total());
  const uint64_t p = static_cast<uint64_t>(cv::countNonZero(pred));
  uint64_t t = 0, tp = 0;
  if (!gt.empty()) {
    t = static_cast<uint64_t>(cv::countNonZero(gt));
    tp = static_cast<uint64_t>(cv::countNonZero((pred != 0) & (gt != 0)));
  }
  pixels_.tp += tp;
  pixels_.fp += p - tp;
  pixels_.fn += t - tp;
  pixels_.tn += n - p - (t - tp);
  const bool pa = p > 0, ta = t > 0;
  predicted_.push_back(pa);
  if (pa && ta) ++images_.tp;
  if (pa && !ta) ++images_.fp;
  if (!pa && ta) ++images_.fn;
  if (!pa && !ta) ++images_.tn;
}

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  if (scores.size() != labels.size()) throw std::invalid_argument("roc_auc: scores and labels differ in length");
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double pos = 0, neg = 0, sum = 0, neg_below = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    double gp = 0, gn = 0;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) {
      (labels[idx[j]] ? gp : gn) += 1;
      ++j;
    }
    sum += gp * (neg_below + 0.5 * gn);
    neg_below += gn;
    pos += gp;
    neg += gn;
    i = j;
  }
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  return sum / (pos * neg);
}

}  // namespace advad
