// DINOv2 ViT encoder (frozen in INP-Former): patch embedding, CLS token,
// position table resampled to the input's grid, register tokens, blocks.
// Parameter names equal the official ones (cls_token, pos_embed,
// register_tokens, mask_token, patch_embed.proj.*, blocks.N.*, norm.*).
#pragma once
#include <map>
#include <mutex>
#include <tuple>
#include <vector>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "inpformer/inpformer_config.h"
#include "inpformer/vit_block.h"

namespace advad::inpformer {

class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int64_t patch, int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);  // [B,3,H,W] -> [B,(H/p)*(W/p),D], row-major
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class Dinov2EncoderImpl : public torch::nn::Module {
 public:
  explicit Dinov2EncoderImpl(const InpFormerConfig& cfg);

  // Position embedding for a gh x gw patch grid: [1, 1 + gh*gw, D] (CLS entry
  // first). Resampled as the official code does (bicubic with scale factor
  // (g + offset) / grid, no antialias, in float32); the stored table when the
  // input is exactly the table's size. Cached per grid and weight version.
  torch::Tensor interpolated_pos_embed(int64_t gh, int64_t gw);
  // [B,3,H,W] -> [B, 1 + R + N, D]: [CLS, registers, patches] (position added before the registers).
  torch::Tensor prepare_tokens(const torch::Tensor& x);
  // Outputs of the given blocks (ascending), all tokens, without the final norm.
  // Runs only blocks 0..taps.back().
  std::vector<torch::Tensor> forward_taps(const torch::Tensor& x, const std::vector<int>& taps);

  InpFormerConfig cfg;
  torch::Tensor cls_token, pos_embed, register_tokens, mask_token;
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};  // stored in the weights, unused by INP-Former

 private:
  struct CacheEntry {
    torch::Tensor value;
    const void* data = nullptr;
    uint32_t version = 0;
  };
  std::map<std::tuple<int64_t, int64_t, int, std::string>, CacheEntry> pos_cache_;
  std::mutex pos_mutex_;
};
TORCH_MODULE(Dinov2Encoder);

}  // namespace advad::inpformer
