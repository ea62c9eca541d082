// INP extractor (official Aggregation_Block): the learnable INP tokens attend
// over the fused patch features with softmax cross-attention (scale hd^-1/2);
// the same norm1 normalises tokens and features; residual attention and MLP.
// Keys: norm1, attn.q, attn.kv (rows k | v), attn.proj, norm2, mlp.fc1/fc2.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "inpformer/dense.h"
#include "inpformer/mlp.h"

namespace advad::inpformer {

class CrossAttentionImpl : public torch::nn::Module {
 public:
  CrossAttentionImpl(int64_t dim, int64_t heads);
  // queries [B,T,D], context [B,N,D] -> [B,T,D]
  torch::Tensor forward(const torch::Tensor& queries, const torch::Tensor& context);
  int64_t heads;
  Dense q{nullptr}, kv{nullptr}, proj{nullptr};
};
TORCH_MODULE(CrossAttention);

class InpExtractorImpl : public torch::nn::Module {
 public:
  InpExtractorImpl(int64_t dim, int64_t heads, int64_t hidden, double eps);
  // tokens [B,M,D], features [B,N,D] -> prototypes [B,M,D]
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& features);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  CrossAttention attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(InpExtractor);

}  // namespace advad::inpformer
