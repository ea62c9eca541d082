// Foreground Estimation Branch (FEB) fit, no labels (official get_feb):
// 2-cluster k-means on sampled denseblock1 vectors, border band = background
// prior, centre square minus the background cluster = foreground prior, a
// two-class LDA (pooled covariance, float64) on balanced samples, and a
// robust (1 %) min-max of the decision values folded into one 1x1 conv.
#pragma once
#include <cstdint>
#include <string>
#include <torch/types.h>

namespace advad::cpr {

struct FebFit {
  bool found = false;     // false: no foreground samples survived -> use weight 1 (texture mode)
  std::string reason;     // why not found (for the warning), empty when found
  torch::Tensor weight;   // [1,C,1,1] float32 (defined when found)
  torch::Tensor bias;     // [1] float32
  int64_t background_samples = 0, foreground_samples = 0;  // per class, after balancing
  double decision_min = 0, decision_max = 0;                // the robust min-max range
};

// tap0: [N,C,h,w] float32 on the CPU (raw denseblock1 features of the training
// images). Deterministic for a given seed. Throws InputError when tap0 is empty
// or not 4-D.
FebFit fit_feb(const torch::Tensor& tap0, uint64_t seed = 66);

}  // namespace advad::cpr
