#include "inpformer/dinov2_encoder.h"

#include <torch/nn/functional/upsampling.h>

#include "core/error.h"

namespace advad::inpformer {

PatchEmbedImpl::PatchEmbedImpl(int64_t patch, int64_t dim) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, dim, patch).stride(patch)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& x) { return proj(x).flatten(2).transpose(1, 2); }

Dinov2EncoderImpl::Dinov2EncoderImpl(const InpFormerConfig& c) : cfg(c) {
  const int64_t D = cfg.embed_dim, g = cfg.pos_grid();
  // Own parameters first, in the official order.
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, D}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, 1 + g * g, D}));
  if (cfg.registers > 0) register_tokens = register_parameter("register_tokens", torch::zeros({1, cfg.registers, D}));
  mask_token = register_parameter("mask_token", torch::zeros({1, D}));
  patch_embed = register_module("patch_embed", PatchEmbed(cfg.patch_size, D));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < cfg.depth; ++i) blocks->push_back(VitBlock(D, cfg.heads, cfg.hidden_dim(), cfg.encoder_eps, cfg.swiglu_hidden));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(cfg.encoder_eps)));
}

torch::Tensor Dinov2EncoderImpl::interpolated_pos_embed(int64_t gh, int64_t gw) {
  const int64_t M = cfg.pos_grid(), D = cfg.embed_dim;
  if (gh * gw == M * M && gh == gw) return pos_embed;  // the official shortcut (input of img_size)
  std::lock_guard<std::mutex> lock(pos_mutex_);
  auto key = std::make_tuple(gh, gw, static_cast<int>(pos_embed.scalar_type()), pos_embed.device().str());
  auto& e = pos_cache_[key];
  if (e.value.defined() && e.data == pos_embed.data_ptr() && e.version == pos_embed._version()) return e.value;
  torch::NoGradGuard ng;  // the encoder is frozen; the table is a constant
  auto table = pos_embed.to(torch::kFloat);
  auto grid = table.slice(1, 1).reshape({1, M, M, D}).permute({0, 3, 1, 2});
  namespace F = torch::nn::functional;
  const double sy = (gh + cfg.pos_offset) / M, sx = (gw + cfg.pos_offset) / M;
  auto out = F::interpolate(grid, F::InterpolateFuncOptions()
                                      .scale_factor(std::vector<double>{sy, sx})
                                      .mode(torch::kBicubic)
                                      .align_corners(false)
                                      .recompute_scale_factor(false));
  if (out.size(2) != gh || out.size(3) != gw)
    throw ModelError("position table resampling gave " + std::to_string(out.size(2)) + "x" +
                     std::to_string(out.size(3)) + " instead of " + std::to_string(gh) + "x" + std::to_string(gw));
  out = out.permute({0, 2, 3, 1}).reshape({1, gh * gw, D});
  e.value = torch::cat({table.slice(1, 0, 1), out}, 1).to(pos_embed.scalar_type());
  e.data = pos_embed.data_ptr();
  e.version = pos_embed._version();
  return e.value;
}

torch::Tensor Dinov2EncoderImpl::prepare_tokens(const torch::Tensor& x) {
  const int64_t B = x.size(0), p = cfg.patch_size;
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) < p || x.size(3) < p)
    throw InputError("INP-Former input must be [B,3,H,W] with H,W >= " + std::to_string(p));
  auto t = patch_embed(x);
  t = torch::cat({cls_token.expand({B, -1, -1}), t}, 1);
  t = t + interpolated_pos_embed(x.size(2) / p, x.size(3) / p);
  if (cfg.registers > 0)
    t = torch::cat({t.slice(1, 0, 1), register_tokens.expand({B, -1, -1}), t.slice(1, 1)}, 1);
  return t;
}

std::vector<torch::Tensor> Dinov2EncoderImpl::forward_taps(const torch::Tensor& x, const std::vector<int>& taps) {
  std::vector<torch::Tensor> out;
  if (taps.empty()) return out;
  auto t = prepare_tokens(x);
  size_t next = 0;
  for (int i = 0; i <= taps.back(); ++i) {
    t = blocks[i]->as<VitBlock>()->forward(t);
    if (next < taps.size() && taps[next] == i) {
      out.push_back(t);
      ++next;
    }
  }
  return out;
}

}  // namespace advad::inpformer
