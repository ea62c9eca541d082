#include "inpformer/mlp.h"

#include <ATen/ATen.h>

namespace advad::inpformer {

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", Dense(dim, hidden));
  fc2 = register_module("fc2", Dense(hidden, dim));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) { return fc2(at::gelu(fc1(x))); }

SwiGluFfnImpl::SwiGluFfnImpl(int64_t dim, int64_t hidden) {
  w12 = register_module("w12", Dense(dim, 2 * hidden));
  w3 = register_module("w3", Dense(hidden, dim));
}

torch::Tensor SwiGluFfnImpl::forward(const torch::Tensor& x) {
  const auto halves = w12(x).chunk(2, -1);
  return w3(at::silu(halves[0]) * halves[1]);
}

}  // namespace advad::inpformer
