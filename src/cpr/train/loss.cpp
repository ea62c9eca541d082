#include "cpr/train/loss.h"

#include <torch/nn/functional/distance.h>
#include <torch/nn/functional/vision.h>

namespace advad::cpr {

namespace F = torch::nn::functional;

CprBatchPoints CprBatchPoints::to(const torch::Device& device) const {
  CprBatchPoints o;
  o.pos_query = pos_query.to(device);
  o.pos_ref = pos_ref.to(device);
  o.pos_weight = pos_weight.to(device);
  o.far_query = far_query.to(device);
  o.far_ref = far_ref.to(device);
  o.far_weight = far_weight.to(device);
  o.anom_query = anom_query.to(device);
  o.anom_ref = anom_ref.to(device);
  o.anom_weight = anom_weight.to(device);
  return o;
}

namespace {

// Bilinear samples of features [B,C,H,W] at points [B,n,2] -> [B,C,n].
torch::Tensor sample_descriptors(const torch::Tensor& features, const torch::Tensor& points) {
  // points [B,n,2] -> grid [B,n,1,2] -> samples [B,C,n,1].
  const auto grid = points.to(features.scalar_type()).unsqueeze(2);
  return F::grid_sample(features, grid,
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false))
      .select(3, 0);
}

// sum((max(0, margin_term) * w)^p) / max(1, #{w > 0}).
torch::Tensor hinge(const torch::Tensor& violation, const torch::Tensor& w, double exponent) {
  const double count = std::max<double>(1.0, (w > 0).sum().item<double>());
  return torch::pow(torch::clamp(violation, 0) * w, exponent).sum() / count;
}

torch::Tensor cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return F::cosine_similarity(a, b, F::CosineSimilarityFuncOptions().dim(1).eps(1e-8));
}

}  // namespace

CprLoss cpr_contrastive_loss(const std::array<torch::Tensor, 2>& heads_query,
                             const std::array<torch::Tensor, 2>& heads_ref,
                             const std::array<torch::Tensor, 2>& taps_query,
                             const std::array<torch::Tensor, 2>& taps_ref, const CprBatchPoints& p,
                             const CprLossOptions& o) {
  torch::Tensor pos, neg;
  const torch::Tensor neg_query = torch::cat({p.far_query, p.anom_query}, 1);
  const torch::Tensor neg_ref = torch::cat({p.far_ref, p.anom_ref}, 1);
  const torch::Tensor far_valid = (p.far_weight > 0).to(p.far_weight.scalar_type());
  const torch::Tensor far_count = p.far_weight.sum(1, true);
  for (size_t s = 0; s < 2; ++s) {
    torch::Tensor far_w;
    {
      torch::NoGradGuard ng;
      const torch::Tensor a = sample_descriptors(taps_query[s], p.far_query);
      const torch::Tensor b = sample_descriptors(taps_ref[s], p.far_ref);
      far_w = (a - b).square().sum(1) * far_valid;
      far_w = far_w / (far_w.sum(1, true) + 1e-7) * far_count;
    }
    const torch::Tensor neg_w = torch::cat({far_w, p.anom_weight}, 1);

    const torch::Tensor cp = cosine(sample_descriptors(heads_query[s], p.pos_query),
                                    sample_descriptors(heads_ref[s], p.pos_ref));
    const torch::Tensor cn = cosine(sample_descriptors(heads_query[s], neg_query),
                                    sample_descriptors(heads_ref[s], neg_ref));
    const torch::Tensor lp = hinge(o.pos_margin - cp, p.pos_weight, o.exponent);
    const torch::Tensor ln = hinge(cn - o.neg_margin, neg_w, o.exponent);
    pos = pos.defined() ? pos + lp : lp;
    neg = neg.defined() ? neg + ln : ln;
  }
  CprLoss out;
  out.positive = pos;
  out.negative = neg;
  out.total = pos + neg;
  return out;
}

}  // namespace advad::cpr
