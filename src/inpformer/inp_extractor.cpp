#include "inpformer/inp_extractor.h"

#include <cmath>

#include "inpformer/precision.h"

namespace advad::inpformer {

CrossAttentionImpl::CrossAttentionImpl(int64_t dim, int64_t heads_) : heads(heads_) {
  q = register_module("q", Dense(dim, dim));
  kv = register_module("kv", Dense(dim, 2 * dim));
  proj = register_module("proj", Dense(dim, dim));
}

torch::Tensor CrossAttentionImpl::forward(const torch::Tensor& queries, const torch::Tensor& context) {
  const int64_t B = queries.size(0), T = queries.size(1), C = queries.size(2), N = context.size(1);
  const int64_t hd = C / heads;
  auto qh = q(queries).reshape({B, T, heads, hd}).permute({0, 2, 1, 3});          // [B,H,T,hd]
  auto kvh = kv(context).reshape({B, N, 2, heads, hd}).permute({2, 0, 3, 1, 4});  // [2,B,H,N,hd]
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  // fp16 tops out at 65504: an unscaled q.k above it is inf and the softmax NaN, so fp16 scales q first.
  // fp32/bf16 keep scaling after the matmul (their range suffices) so their numbers stay bit-identical.
  torch::Tensor scores = qh.scalar_type() == torch::kHalf ? (qh * scale).matmul(kvh[0].transpose(-2, -1))
                                                          : qh.matmul(kvh[0].transpose(-2, -1)) * scale;
  auto a = softmax32(scores, -1);
  return proj(a.matmul(kvh[1]).transpose(1, 2).reshape({B, T, C}));
}

InpExtractorImpl::InpExtractorImpl(int64_t dim, int64_t heads, int64_t hidden, double eps) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)));
  attn = register_module("attn", CrossAttention(dim, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps)));
  mlp = register_module("mlp", Mlp(dim, hidden));
}

torch::Tensor InpExtractorImpl::forward(const torch::Tensor& tokens, const torch::Tensor& features) {
  auto x = tokens + attn(layer_norm32(tokens, norm1), layer_norm32(features, norm1));
  return x + mlp(layer_norm32(x, norm2));
}

}  // namespace advad::inpformer
