// The pixel-score threshold rules of advad calibrate (mean + k*std,
// percentile, pooled max-F1) over float16-rounded scores: a histogram of
// 65,536 bins per label keeps memory bounded whatever the image count.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace advad {

// Pixel score histogram over float16 order keys, split by label.
struct ScoreHist {
  std::vector<uint64_t> neg = std::vector<uint64_t>(65536, 0), pos = std::vector<uint64_t>(65536, 0);
  double sum = 0, sum_sq = 0;  // of the negatives, in float32 units (for mean-std)
  uint64_t n_neg = 0, n_pos = 0;
  // map: CV_32F scores; mask: CV_8U, nonzero = positive (empty: all negative);
  // stats: add the negatives to sum / sum_sq. ModelError on a NaN score.
  void add(const cv::Mat& map, const cv::Mat& mask, bool stats);
};

// The score a histogram bin stands for.
double score_of_bin(int bin);

// Fraction of negatives with score >= t, and pooled F1 at t (positives from the mask).
struct AtThreshold {
  double fpr = 0, f1 = 0;
};
AtThreshold evaluate_at(const ScoreHist& h, double t);

// mean + k * std of the negatives added with stats.
double mean_std_threshold(const ScoreHist& h, double k);
// The smallest bin value with at least pct % of the negatives at or below it.
double percentile_threshold(const ScoreHist& h, double pct);
// The bin value with the best pooled F1 (positive iff score >= value), swept from the top.
double max_f1_threshold(const ScoreHist& h);

}  // namespace advad
