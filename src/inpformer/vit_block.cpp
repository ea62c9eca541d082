#include "inpformer/vit_block.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "inpformer/precision.h"

namespace advad::inpformer {

SelfAttentionImpl::SelfAttentionImpl(int64_t dim, int64_t heads_) : heads(heads_) {
  qkv = register_module("qkv", Dense(dim, 3 * dim));
  proj = register_module("proj", Dense(dim, dim));
}

namespace {

// Largest [n, N, N] score block computed at once. One block for all tiles and
// heads of a 448 tile is 50 MB (ViT-B, fp32), above glibc's 32 MB mmap
// threshold: each forward then gets fresh mappings and pays their page faults
// (on this VM attention at 448 took 319 ms per block, 40 ms in chunks; 158 vs
// 31 ms at 392). Chunks over the (tile, head) pairs stay in reused memory.
constexpr int64_t kScoreBlockBytes = 16 << 20;

}  // namespace

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2), hd = C / heads;
  auto t = qkv(x).reshape({B, N, 3, heads, hd}).permute({2, 0, 3, 1, 4}).reshape({3, B * heads, N, hd});
  auto q = t[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
  const int64_t pair_bytes = N * N * static_cast<int64_t>(x.element_size());
  const int64_t step = std::max<int64_t>(1, kScoreBlockBytes / pair_bytes);
  torch::Tensor o;  // [B*H, N, hd]
  if (step >= B * heads) {
    o = softmax32(q.matmul(t[1].transpose(-2, -1)), -1).matmul(t[2]);
  } else {
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < B * heads; i += step) {
      const int64_t e = std::min(B * heads, i + step);
      parts.push_back(softmax32(q.slice(0, i, e).matmul(t[1].slice(0, i, e).transpose(-2, -1)), -1)
                          .matmul(t[2].slice(0, i, e)));
    }
    o = torch::cat(parts, 0);
  }
  return proj(o.reshape({B, heads, N, hd}).transpose(1, 2).reshape({B, N, C}));
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
