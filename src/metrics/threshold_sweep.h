// Thresholds swept through the whole decision chain (core/postproc.h) on maps
// kept in memory, for advad calibrate: the SegF1-best threshold on labelled
// images under a false-alarm budget, the min_area that finds the most
// pseudo-defects within the budget, and the plot of both against the threshold.
// SegF1 and ClassF1 are metrics/binary_metrics.h's, counted on the chain's
// masks (what advad predict writes as thresholded maps and advad eval reads).
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/profile.h"
#include "metrics/binary_metrics.h"
#include "metrics/false_alarm.h"

namespace advad {

struct ChainImage {
  cv::Mat map;    // CV_32F score map, blurred already (the spec it is used with has blur_ksize 0)
  cv::Mat gt;     // CV_8U, non-zero = defect; empty = defect-free
  cv::Mat frame;  // RGB frame; needed only when the spec's foreground gate is on
};

struct ChainPoint {
  double threshold = 0;
  F1Counts seg, cls;  // pooled pixel counts (SegF1) and image counts (ClassF1) of the chain's masks
  int good_flagged = 0, good = 0;  // defect-free images (empty or all-zero gt) the chain flags, of all such
};

// The chain at threshold t on every image, counted by BinaryAccumulator.
ChainPoint evaluate_chain(const std::vector<ChainImage>& images, const PostprocSpec& spec, double t);

struct LabelledF1 {
  ChainPoint best;         // the SegF1-best candidate
  ChainPoint constrained;  // the SegF1-best candidate >= min_threshold
  std::vector<ChainPoint> sweep;  // every candidate evaluated, from the highest threshold down
  size_t candidates = 0;          // distinct candidate values (sweep.size() when all were evaluated)
};

// Candidate thresholds: every float16 value (round to nearest even) that occurs
// in the maps, as the max-f1 rule's histogram has them, plus min_threshold
// itself for the constrained point. With max_candidates = 0 (or at most that
// many values) the sweep is exact over that set: the chain runs at each
// candidate on every image (an image's mask is empty above its critical
// threshold, so those runs are skipped). Ties go to the higher threshold.
// With more values than max_candidates (large maps hold tens of thousands, and
// each is one chain run per image), a coarse pass takes max_candidates evenly
// spaced ranks plus min_threshold, then every value between the neighbours of
// the best coarse point and of the best one >= min_threshold: exact when SegF1
// has no sharper peak between two coarse ranks elsewhere.
LabelledF1 labelled_f1(const std::vector<ChainImage>& images, const PostprocSpec& spec, double min_threshold,
                       size_t max_candidates = 0);

struct MinAreaRow {
  int min_area = 0;
  BudgetThreshold budget;  // the false-alarm threshold with this min_area
  int found = 0;           // pseudo-defects found at that threshold
};

// For each candidate min_area: the calibration images' critical thresholds,
// their budget threshold and the pseudo-defects (gt = the planted mask) found
// there. Rows in the order given.
std::vector<MinAreaRow> min_area_table(const std::vector<ChainImage>& clean, const std::vector<ChainImage>& pseudo,
                                       const PostprocSpec& spec, double false_alarms, const std::vector<int>& candidates);
// The row that finds the most; ties: the fewest images flagged, then `prefer`'s row, then the smaller min_area.
// Rows at which no image can be flagged at all (threshold +inf) come last.
size_t best_min_area(const std::vector<MinAreaRow>& rows, int prefer);

struct CalibrationPlot {
  std::vector<double> clean_critical, found_critical;  // per image: flagged / defect found for t <= value
  std::vector<ChainPoint> labelled;                    // SegF1 against the threshold (optional)
  double chosen = 0;
  std::string chosen_label;
};

// False-alarm rate of the calibration images (with the 95 % Clopper-Pearson
// band), share of pseudo-defects found and, when given, labelled SegF1 against
// the threshold; the chosen threshold marked. CV_8UC3 BGR.
cv::Mat draw_calibration(const CalibrationPlot& p, int width = 960, int height = 600);
void plot_calibration(const CalibrationPlot& p, const std::string& png);

}  // namespace advad
