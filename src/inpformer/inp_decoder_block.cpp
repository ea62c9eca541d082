#include "inpformer/inp_decoder_block.h"

#include <ATen/ATen.h>

#include "inpformer/precision.h"

namespace advad::inpformer {

namespace {

// F.normalize(t, dim=-1): t / max(||t||, 1e-12), in float32.
at::Tensor l2_normalize(const at::Tensor& t) { return l2_normalize32(t, 1e-12); }

}  // namespace

PrototypeAttentionImpl::PrototypeAttentionImpl(int64_t dim, int64_t heads_) : heads(heads_) {
  learn_scale = register_parameter("learn_scale", torch::ones({heads, 1, 1}));
  q = register_module("q", Dense(dim, dim));
  kv = register_module("kv", Dense(dim, 2 * dim));
  proj = register_module("proj", Dense(dim, dim));
}

torch::Tensor PrototypeAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& prototypes) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2), M = prototypes.size(1), hd = C / heads;
  auto qh = l2_normalize(q(x).reshape({B, N, heads, hd}).permute({0, 2, 1, 3}));       // [B,H,N,hd]
  auto kvh = kv(prototypes).reshape({B, M, 2, heads, hd}).permute({2, 0, 3, 1, 4});  // [2,B,H,M,hd]
  auto a = at::relu(qh.matmul(l2_normalize(kvh[0]).transpose(-2, -1)) * learn_scale);  // [B,H,N,M]
  return proj(a.matmul(kvh[1]).transpose(1, 2).reshape({B, N, C}));
}

InpDecoderBlockImpl::InpDecoderBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double eps) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)));
  attn = register_module("attn", PrototypeAttention(dim, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)));
  mlp = register_module("mlp", Mlp(dim, hidden));
}

torch::Tensor InpDecoderBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& prototypes) {
  auto y = attn(layer_norm32(x, norm1), layer_norm32(prototypes, norm1));
  return y + mlp(layer_norm32(y, norm2));
}

}  // namespace advad::inpformer
