// Numerics shared by the INP-Former modules: LayerNorm, softmax and L2
// normalisations always run in float32 (the weights may be fp16/bf16), the
// result is cast back.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/modules/normalization.h>

namespace advad::inpformer {

inline at::Tensor layer_norm32(const at::Tensor& x, torch::nn::LayerNorm& ln) {
  const auto& o = ln->options;
  if (x.scalar_type() == at::kFloat)
    return at::layer_norm(x, o.normalized_shape(), ln->weight, ln->bias, o.eps());
  return at::layer_norm(x.to(at::kFloat), o.normalized_shape(), ln->weight.to(at::kFloat), ln->bias.to(at::kFloat),
                        o.eps())
      .to(x.scalar_type());
}

inline at::Tensor softmax32(const at::Tensor& x, int64_t dim) {
  if (x.scalar_type() == at::kFloat) return x.softmax(dim);
  // LibTorch's CPU softmax of a bf16 tensor computes in float32 and rounds once
  // at the end: it equals the float32 softmax cast to bf16 (a few 1-ulp
  // differences below 1e-6; PrecisionAccuracy.CpuBf16SoftmaxIsFloat32Inside), at
  // a tenth of the cost of converting the [B,H,N,N] scores to float32 and back.
  if (x.is_cpu() && x.scalar_type() == at::kBFloat16) return x.softmax(dim);
  return x.softmax(dim, at::kFloat).to(x.scalar_type());
}

// x / max(||x||_2, eps) along the last dim, computed in float32, cast back.
inline at::Tensor l2_normalize32(const at::Tensor& x, double eps) {
  const auto f = x.scalar_type() == at::kFloat ? x : x.to(at::kFloat);
  const auto r = f / f.norm(2, {-1}, /*keepdim=*/true).clamp_min(eps);
  return x.scalar_type() == at::kFloat ? r : r.to(x.scalar_type());
}

}  // namespace advad::inpformer
