// DINOv2 transformer block: pre-norm self-attention and MLP, each scaled by a
// LayerScale and added back (x += ls1(attn(norm1(x))); x += ls2(mlp(norm2(x)))).
// Official key names: norm1, attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1/fc2 (ViT-g: mlp.w12/w3), ls2.gamma.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "inpformer/dense.h"
#include "inpformer/mlp.h"

namespace advad::inpformer {

// Multi-head self-attention with a fused qkv projection (rows q | k | v, heads
// contiguous inside each); q is scaled by head_dim^-1/2 before q k^T, softmax
// over the keys in float32.
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int64_t dim, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x);

  int64_t heads;
  Dense qkv{nullptr}, proj{nullptr};
};
TORCH_MODULE(SelfAttention);

// Per-channel scale (gamma, length D).
class LayerScaleImpl : public torch::nn::Module {
 public:
  explicit LayerScaleImpl(int64_t dim, double init = 1e-8);
  torch::Tensor forward(const torch::Tensor& x) { return x * gamma; }
  torch::Tensor gamma;
};
TORCH_MODULE(LayerScale);

class VitBlockImpl : public torch::nn::Module {
 public:
  // swiglu_hidden > 0: the FFN is DINOv2's fused SwiGLU of that width (ViT-g), else the GELU Mlp.
  VitBlockImpl(int64_t dim, int64_t heads, int64_t hidden, double eps, int64_t swiglu_hidden = 0);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  SelfAttention attn{nullptr};
  LayerScale ls1{nullptr}, ls2{nullptr};
  Mlp mlp{nullptr};
  SwiGluFfn swiglu{nullptr};  // registered as "mlp" when used
};
TORCH_MODULE(VitBlock);

}  // namespace advad::inpformer
