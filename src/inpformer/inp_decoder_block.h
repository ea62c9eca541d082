// INP-guided decoder block (official Prototype_Block): tokens (queries) attend
// to the INPs (keys/values) with L2-normalised q and k, a learnable per-head
// scale and ReLU instead of softmax; the attention output REPLACES x (no
// residual), then x + MLP(norm2(x)). The same norm1 normalises x and the INPs.
// Keys: norm1, attn.learn_scale (H,1,1), attn.q, attn.kv (rows k | v), attn.proj, norm2, mlp.fc1/fc2.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "inpformer/dense.h"
#include "inpformer/mlp.h"

namespace advad::inpformer {

class PrototypeAttentionImpl : public torch::nn::Module {
 public:
  PrototypeAttentionImpl(int64_t dim, int64_t heads);
  // x [B,N,D], prototypes [B,M,D] -> [B,N,D]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& prototypes);
  int64_t heads;
  torch::Tensor learn_scale;
  Dense q{nullptr}, kv{nullptr}, proj{nullptr};
};
TORCH_MODULE(PrototypeAttention);

class InpDecoderBlockImpl : public torch::nn::Module {
 public:
  InpDecoderBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& prototypes);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  PrototypeAttention attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(InpDecoderBlock);

}  // namespace advad::inpformer
