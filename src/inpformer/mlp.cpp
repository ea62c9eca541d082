#include "inpformer/mlp.h"

#include <ATen/ATen.h>

namespace advad::inpformer {

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) { return fc2(at::gelu(fc1(x))); }

}  // namespace advad::inpformer
