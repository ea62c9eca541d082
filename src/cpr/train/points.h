// Pair and point sampling for CPR training (official CPRDataset.__getitem__,
// spec cpr.md 9.2). For one (query, reference) pair at S x S:
//   positives      2n normal pixels (mask == 0) drawn without replacement with
//                  probability proportional to the foreground sampling weight
//                  (uniform for textures / no foreground); the first n become
//                  pairs at the same (x, y) in query and reference
//   anomalies      up to n random pixels with mask != 0, same (x, y) in both
//   far negatives  the 2n positive candidates as reference points, a uniformly
//                  random pixel (without replacement) as each query point; pairs
//                  farther apart than far_distance are kept, up to n; textures
//                  give them weight 0
// Each set is padded to n entries (pixel (0,0), weight 0), valid entries have
// weight 1, and pixel coordinates p map to p / (S-1) * 2 - 1 (the official
// convention; features are sampled with align_corners = false).
#pragma once
#include <cmath>
#include <random>
#include <opencv2/core.hpp>
#include <torch/types.h>

namespace advad::cpr {

// Official threshold: scale0 (4) * (region_size0 // 2) * sqrt(2).
inline double far_negative_distance(int region_size0, int stride0 = 4) {
  return stride0 * (region_size0 / 2) * std::sqrt(2.0);
}

struct PointSet {
  torch::Tensor query, ref;  // [n,2] float32, (x, y) in [-1, 1]
  torch::Tensor weight;      // [n] float32, 1 valid / 0 padding
};

struct PairPoints {
  PointSet positive, far, anomaly;
};

struct PointSamplerOptions {
  int points = 300;             // n
  bool object = true;           // false: far negatives get weight 0
  double far_distance = far_negative_distance(3);
};

// The foreground sampling weight of one training image (objects): the FEB map
// ([h,w] CV_32F in [0,1]) Gaussian-smoothed with sigma = h/25 (scipy
// gaussian_filter: truncate 4, reflect border), sharpened with
// 1/(1+exp(5-10x)), resized to size x size (bilinear). CV_32F.
cv::Mat foreground_sampling_weight(const cv::Mat& feb_map, int size);

// mask: CV_8U S x S, non-zero = anomalous. weight: CV_32F S x S (the max of
// query's and reference's sampling weights) or empty = uniform. Deterministic
// given rng's state. InputError when the mask has no normal pixel.
PairPoints sample_pair_points(const cv::Mat& mask, const cv::Mat& weight, const PointSamplerOptions& options,
                              std::mt19937_64& rng);

// Pixel coordinate -> [-1, 1] the official way.
// (float32 arithmetic like the official numpy code).
inline float to_unit(int p, int size) {
  return static_cast<float>(p) / static_cast<float>(size - 1) * 2.0f - 1.0f;
}

}  // namespace advad::cpr
