// INP-Former training loss (official utils.py global_cosine_hm_adaptive + the
// model's gather loss): L = soft_mining(E, D) + coherence_weight * mean(distance).
#pragma once
#include <vector>
#include <torch/types.h>

namespace advad::inpformer {

// Soft-mining loss over the layer groups. Per group g (E_g, D_g: [B,C,h,w]):
//   value: mean over b of 1 - cos(flatten(E_g[b]), flatten(D_g[b])), with E_g detached;
//   gradient: a hook on D_g multiplies the incoming gradient at each position by
//   (d / mean(d))^y, where d[b,h,w] = 1 - cos(E_g[b,:,h,w], D_g[b,:,h,w]) is taken
//   without grad and the mean runs over the whole batch and all positions.
// Returns the average over groups. Hooks are only attached to D_g that require grad.
torch::Tensor soft_mining_loss(const std::vector<torch::Tensor>& enc_groups,
                               const std::vector<torch::Tensor>& dec_groups, double exponent = 3.0);

struct TrainLoss {
  torch::Tensor total;        // soft_mining + coherence_weight * coherence (scalar, with grad)
  torch::Tensor soft_mining;  // scalar
  torch::Tensor coherence;    // mean INP coherence distance (scalar)
};

// distance: [B,N] INP coherence distance of the forward pass (InpFormerOutput::distance).
TrainLoss inpformer_loss(const std::vector<torch::Tensor>& enc_groups, const std::vector<torch::Tensor>& dec_groups,
                         const torch::Tensor& distance, double coherence_weight = 0.2, double exponent = 3.0);

}  // namespace advad::inpformer
