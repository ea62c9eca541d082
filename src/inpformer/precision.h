// Numerics shared by the INP-Former modules: LayerNorm and softmax always run
// in float32 (the weights may be fp16/bf16 on CUDA), the result is cast back.
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
  return x.softmax(dim, at::kFloat).to(x.scalar_type());
}

}  // namespace advad::inpformer
