#include "inpformer/vit_block.h"

#include <cmath>

#include "inpformer/precision.h"

namespace advad::inpformer {

SelfAttentionImpl::SelfAttentionImpl(int64_t dim, int64_t heads_) : heads(heads_) {
  qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2), hd = C / heads;
  auto t = qkv(x).reshape({B, N, 3, heads, hd}).permute({2, 0, 3, 1, 4});  // [3,B,H,N,hd]
  auto q = t[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
  auto a = softmax32(q.matmul(t[1].transpose(-2, -1)), -1);
  return proj(a.matmul(t[2]).transpose(1, 2).reshape({B, N, C}));
}

LayerScaleImpl::LayerScaleImpl(int64_t dim, double init) {
  gamma = register_parameter("gamma", torch::full({dim}, init));
}

VitBlockImpl::VitBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double eps, int64_t swiglu_hidden) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)));
  attn = register_module("attn", SelfAttention(dim, heads));
  ls1 = register_module("ls1", LayerScale(dim));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)));
  if (swiglu_hidden > 0) swiglu = register_module("mlp", SwiGluFfn(dim, swiglu_hidden));
  else mlp = register_module("mlp", Mlp(dim, hidden));
  ls2 = register_module("ls2", LayerScale(dim));
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) {
  auto y = x + ls1(attn(layer_norm32(x, norm1)));
  const auto z = layer_norm32(y, norm2);
  return y + ls2(swiglu ? swiglu(z) : mlp(z));
}

}  // namespace advad::inpformer
