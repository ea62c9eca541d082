// Mlp: fc1 (D -> hidden), exact (erf) GELU, fc2 (hidden -> D), both with bias,
// no dropout. Used by the encoder blocks, the INP extractor, the bottleneck
// and the decoder blocks (official key names fc1.*, fc2.*). SwiGluFfn: ViT-g's FFN.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "inpformer/dense.h"

namespace advad::inpformer {

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

  Dense fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

// DINOv2's fused SwiGLU FFN (ViT-g/14): w12 (D -> 2H) split in halves x1 | x2,
// silu(x1) * x2, w3 (H -> D); both with bias (key names w12.*, w3.*).
class SwiGluFfnImpl : public torch::nn::Module {
 public:
  SwiGluFfnImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

  Dense w12{nullptr}, w3{nullptr};
};
TORCH_MODULE(SwiGluFfn);

}  // namespace advad::inpformer
