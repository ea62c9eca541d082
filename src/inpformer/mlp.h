// Mlp: fc1 (D -> hidden), exact (erf) GELU, fc2 (hidden -> D), both with bias,
// no dropout. Used by the encoder blocks, the INP extractor, the bottleneck
// and the decoder blocks (official key names fc1.*, fc2.*).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace advad::inpformer {

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace advad::inpformer
