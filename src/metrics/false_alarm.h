// False-alarm budgets: thresholds stated as "at most a fraction P of good
// images reported defective", through the whole decision chain the elements
// run (core/postproc.h: blur, threshold, foreground gate, closing, hole fill,
// erosion, min_area). Each image's decision is monotone in the threshold (a
// higher threshold gives a subset mask, and every later step keeps subsets),
// so one critical threshold per image says at which thresholds it is flagged,
// and the budget threshold is a quantile of them: exact, no grid search.
#pragma once
#include <opencv2/core.hpp>
#include <vector>

#include "core/profile.h"

namespace advad {

// The largest threshold at which postprocess(map, ..., spec, frame) still
// reports a defect: the image is flagged for every t <= c and clean for every
// t > c. -infinity when no threshold flags it (e.g. the hole-fill fallback
// empties an all-white mask). Binary search over the distinct values of the
// (blurred) map, each step one call of the real postprocess.
double critical_threshold(const cv::Mat& map, const PostprocSpec& spec, const cv::Mat& frame_rgb = cv::Mat());

// As critical_threshold, but "flagged" means a region that overlaps `defect`
// (CV_8U, nonzero = planted defect): the largest threshold at which the
// defect is still found. -infinity when never found.
double critical_threshold_found(const cv::Mat& map, const cv::Mat& defect, const PostprocSpec& spec,
                                const cv::Mat& frame_rgb = cv::Mat());

struct BudgetThreshold {
  double threshold = 0;  // images with critical >= threshold are flagged
  int flagged = 0;       // of the calibration images, at that threshold
  int n = 0;
  double upper95 = 0;    // one-sided 95 % Clopper-Pearson upper bound of the false-alarm rate
  bool supported = true; // false: even 0 flags of n cannot bound the rate below P at 95 %
};

// The lowest threshold at which at most floor(P * n) of the images whose
// critical thresholds are given are flagged (the next float above a critical
// value: maps are float and the chain compares in float). P in [0, 1).
BudgetThreshold budget_threshold(std::vector<double> criticals, double false_alarms);

// One-sided upper confidence bound of a binomial rate from x events in n trials
// (Clopper-Pearson: the p at which P(X <= x) = 1 - confidence). x = n gives 1.
double clopper_pearson_upper(int x, int n, double confidence = 0.95);

// Regularised incomplete beta function I_x(a, b), for the bound above.
double incomplete_beta(double a, double b, double x);

}  // namespace advad
