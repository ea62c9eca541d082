// CPR contrastive loss (official ContrastiveLoss + train_one_step, spec cpr.md 9.3).
// For each scale s (LRB head output + raw backbone tap):
//   descriptors   bilinear grid_sample (align_corners = false, zero padding) of the
//                 un-normalised head outputs at the point coordinates
//   far weights   squared L2 distance of the raw backbone features at the two
//                 points (detached), zeroed where the far weight is 0, divided by
//                 (its per-sample sum + 1e-7) and multiplied by the per-sample
//                 number of valid far pairs (sum of the far weights)
//   negatives     [far pairs with those weights] ++ [anomaly pairs with their weights]
//   L_pos         sum (max(0, m+ - cos) * w)^p / max(1, #{w > 0})     (over the whole batch)
//   L_neg         sum (max(0, cos - m-) * w)^p / max(1, #{w > 0})
// cos = torch cosine_similarity over channels (eps 1e-8). total = sum over the
// scales of L_pos + L_neg, no balancing factor.
#pragma once
#include <array>
#include <torch/types.h>

namespace advad::cpr {

// A batch of point sets: coordinates [B,n,2] (x, y) in [-1,1], weights [B,n].
struct CprBatchPoints {
  torch::Tensor pos_query, pos_ref, pos_weight;
  torch::Tensor far_query, far_ref, far_weight;
  torch::Tensor anom_query, anom_ref, anom_weight;
  CprBatchPoints to(const torch::Device& device) const;
};

struct CprLossOptions {
  double pos_margin = 0.8;
  double neg_margin = -0.2;
  double exponent = 3.0;
};

struct CprLoss {
  torch::Tensor total, positive, negative;  // scalars; positive/negative summed over the scales
};

// heads_*: LRB outputs per scale [B,D,h,w]; taps_*: raw backbone features per scale [B,C,h,w].
CprLoss cpr_contrastive_loss(const std::array<torch::Tensor, 2>& heads_query,
                             const std::array<torch::Tensor, 2>& heads_ref,
                             const std::array<torch::Tensor, 2>& taps_query,
                             const std::array<torch::Tensor, 2>& taps_ref, const CprBatchPoints& points,
                             const CprLossOptions& options = {});

}  // namespace advad::cpr
