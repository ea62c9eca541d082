#include "inpformer/train_loss.h"

#include <torch/autograd.h>
#include <torch/nn/functional/distance.h>

#include "core/error.h"

namespace advad::inpformer {

namespace F = torch::nn::functional;

torch::Tensor soft_mining_loss(const std::vector<torch::Tensor>& enc_groups,
                               const std::vector<torch::Tensor>& dec_groups, double exponent) {
  if (enc_groups.empty() || enc_groups.size() != dec_groups.size())
    throw Error("soft_mining_loss: need the same non-zero number of encoder and decoder groups (got " +
                std::to_string(enc_groups.size()) + " and " + std::to_string(dec_groups.size()) + ")");
  const auto cos_dim1 = F::CosineSimilarityFuncOptions().dim(1).eps(1e-8);
  torch::Tensor loss;
  for (size_t g = 0; g < enc_groups.size(); ++g) {
    const torch::Tensor e = enc_groups[g].detach();
    torch::Tensor d = dec_groups[g];
    if (e.dim() != 4 || !e.sizes().equals(d.sizes()))
      throw Error("soft_mining_loss: group " + std::to_string(g) + " encoder " + c10::str(e.sizes()) +
                  " and decoder " + c10::str(d.sizes()) + " must both be [B,C,h,w] of equal shape");
    torch::Tensor factor;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor point = 1 - F::cosine_similarity(e, d.detach(), cos_dim1).unsqueeze(1);  // [B,1,h,w]
      factor = (point / point.mean()).pow(exponent);
    }
    const int64_t b = e.size(0);
    const torch::Tensor term =
        (1 - F::cosine_similarity(e.reshape({b, -1}), d.reshape({b, -1}), cos_dim1)).mean();
    loss = loss.defined() ? loss + term : term;
    // Hard positions (large d) get a larger share of the gradient; the value stays the plain global cosine.
    if (d.requires_grad()) d.register_hook([factor](torch::Tensor grad) { return grad * factor.expand_as(grad); });
  }
  return loss / static_cast<double>(enc_groups.size());
}

TrainLoss inpformer_loss(const std::vector<torch::Tensor>& enc_groups, const std::vector<torch::Tensor>& dec_groups,
                         const torch::Tensor& distance, double coherence_weight, double exponent) {
  TrainLoss l;
  l.soft_mining = soft_mining_loss(enc_groups, dec_groups, exponent);
  l.coherence = distance.mean();
  l.total = l.soft_mining + coherence_weight * l.coherence;
  return l;
}

}  // namespace advad::inpformer
