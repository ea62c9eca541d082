#include "inpformer/inpformer_config.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace advad::inpformer {

namespace {
const std::vector<int> kTapsSB{2, 3, 4, 5, 6, 7, 8, 9};
const std::vector<int> kTapsL{4, 6, 8, 10, 12, 14, 16, 18};
// No official ViT-g recipe: L's taps at the same relative depths of 40 blocks (round(i * 40 / 24)).
const std::vector<int> kTapsG{7, 10, 13, 17, 20, 23, 27, 30};

struct Preset {
  const char* name;
  int dim, depth, heads;
};
const Preset kPresets[] = {
    {"vit_small", 384, 12, 6}, {"vit_base", 768, 12, 12}, {"vit_large", 1024, 24, 16}, {"vit_giant", 1536, 40, 24}};
constexpr int kGiantSwiGluHidden = 4096;  // DINOv2 ViT-g/14: int(2/3 * 4 * 1536), a multiple of 8

std::string join(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}
}  // namespace

void InpFormerConfig::validate() const {
  validate_shapes();
  validate_taps();
}

void InpFormerConfig::validate_shapes() const {
  auto bad = [](const std::string& m) { throw ModelError("INP-Former config: " + m); };
  if (embed_dim <= 0 || heads <= 0 || embed_dim % heads) bad("embed_dim " + std::to_string(embed_dim) +
                                                             " must be a positive multiple of heads " +
                                                             std::to_string(heads));
  if (depth <= 0) bad("depth must be positive");
  if (registers < 0) bad("registers must be >= 0");
  if (patch_size <= 0 || img_size < patch_size) bad("img_size must be >= patch_size");
  if (mlp_ratio <= 0) bad("mlp_ratio must be positive");
  if (n_inps <= 0) bad("inps must be positive");
  if (n_decoder <= 0) bad("decoder_blocks must be positive");
}

void InpFormerConfig::validate_taps() const {
  auto bad = [](const std::string& m) { throw ModelError("INP-Former config: " + m); };
  if (taps.empty()) bad("taps must not be empty");
  for (size_t i = 0; i < taps.size(); ++i) {
    if (taps[i] < 0 || taps[i] >= depth)
      bad("tap " + std::to_string(taps[i]) + " outside the encoder's blocks 0.." + std::to_string(depth - 1));
    if (i && taps[i] <= taps[i - 1]) bad("taps must be strictly ascending (got " + join(taps) + ")");
  }
  if (enc_groups.empty() || enc_groups.size() != dec_groups.size())
    bad("encoder and decoder groups must be non-empty lists of equal length");
  for (auto& g : enc_groups) {
    if (g.empty()) bad("empty encoder group");
    for (int i : g)
      if (i < 0 || i >= static_cast<int>(taps.size())) bad("encoder group index " + std::to_string(i) +
                                                            " outside the " + std::to_string(taps.size()) + " taps");
  }
  for (auto& g : dec_groups) {
    if (g.empty()) bad("empty decoder group");
    for (int i : g)
      if (i < 0 || i >= n_decoder) bad("decoder group index " + std::to_string(i) + " outside the " +
                                       std::to_string(n_decoder) + " decoder blocks");
  }
}

std::string InpFormerConfig::describe() const {
  std::ostringstream o;
  std::string enc = encoder_name(*this);
  o << (enc == "custom" ? "custom ViT" : enc) << "/" << patch_size << (registers ? "-reg" + std::to_string(registers) : "")
    << " D=" << embed_dim << " heads " << heads << " depth " << depth << " taps " << join(taps) << " INPs " << n_inps
    << " decoder " << n_decoder;
  return o.str();
}

InpFormerConfig preset_config(const std::string& encoder, int registers) {
  for (const auto& p : kPresets)
    if (encoder == p.name) {
      InpFormerConfig c;
      c.embed_dim = p.dim;
      c.depth = p.depth;
      c.heads = p.heads;
      c.registers = registers;
      c.taps = p.depth == 40 ? kTapsG : p.depth == 24 ? kTapsL : kTapsSB;
      if (p.depth == 40) c.swiglu_hidden = kGiantSwiGluHidden;
      return c;
    }
  throw ModelError("unknown INP-Former encoder '" + encoder + "' (accepted: vit_small, vit_base, vit_large, vit_giant)");
}

std::string encoder_name(const InpFormerConfig& cfg) {
  for (const auto& p : kPresets)
    if (cfg.embed_dim == p.dim && cfg.depth == p.depth && cfg.heads == p.heads && cfg.patch_size == 14) return p.name;
  return "custom";
}

WeightsKind weights_kind(const StateDict& sd) {
  if (sd.has("prototype_token") && sd.has("encoder.pos_embed")) return WeightsKind::InpFormer;
  if (sd.has("pos_embed") && sd.has("patch_embed.proj.weight") && sd.has("blocks.0.attn.qkv.weight"))
    return WeightsKind::Dinov2;
  throw ModelError(sd.source + ": neither an INP-Former model.pth (prototype_token, encoder.*) nor a DINOv2 "
                   "pretrain file (pos_embed, patch_embed.*, blocks.*)");
}

InpFormerConfig infer_config(const StateDict& sd, InpFormerConfig c) {
  const bool full = weights_kind(sd) == WeightsKind::InpFormer;
  const std::string e = full ? "encoder." : "";
  auto need = [&](const std::string& k, int64_t dims) -> const torch::Tensor& {
    const auto& t = sd.at(k);
    if (t.dim() != dims)
      throw ModelError(sd.source + ": key '" + k + "' has " + std::to_string(t.dim()) + " dims, expected " +
                       std::to_string(dims));
    return t;
  };
  const auto& proj = need(e + "patch_embed.proj.weight", 4);
  c.embed_dim = static_cast<int>(proj.size(0));
  c.patch_size = static_cast<int>(proj.size(2));
  if (proj.size(1) != 3 || proj.size(3) != proj.size(2))
    throw ModelError(sd.source + ": '" + e + "patch_embed.proj.weight' is not a square RGB patch embedding");
  int depth = 0;
  while (sd.has(e + "blocks." + std::to_string(depth) + ".attn.qkv.weight")) ++depth;
  if (depth == 0) {
    if (sd.has(e + "blocks.0.0.attn.qkv.weight"))
      throw ModelError(sd.source + ": chunked DINOv2 blocks (blocks.0.0.*) are not supported; use block_chunks=0 weights");
    throw ModelError(sd.source + ": no encoder blocks ('" + e + "blocks.0.attn.qkv.weight' missing)");
  }
  const int old_depth = c.depth;
  c.depth = depth;
  int64_t npos = need(e + "pos_embed", 3).size(1) - 1;
  int grid = static_cast<int>(std::lround(std::sqrt(static_cast<double>(npos))));
  if (grid * grid != npos)
    throw ModelError(sd.source + ": '" + e + "pos_embed' has " + std::to_string(npos) + " patch entries, not a square grid");
  c.img_size = grid * c.patch_size;
  c.registers = sd.has(e + "register_tokens") ? static_cast<int>(need(e + "register_tokens", 3).size(1)) : 0;
  // The encoder's FFN: GELU Mlp (fc1/fc2) or, for ViT-g, the fused SwiGLU (w12/w3).
  // The INP modules always use a GELU Mlp; with a SwiGLU encoder their width
  // comes from the bottleneck (official model.pth) or is the default 4 x D.
  const std::string mlp_key = sd.has(e + "blocks.0.mlp.w12.weight")
                                  ? std::string(full ? "bottleneck.0.fc1.weight" : "")
                                  : e + "blocks.0.mlp.fc1.weight";
  c.swiglu_hidden = sd.has(e + "blocks.0.mlp.w12.weight")
                        ? static_cast<int>(need(e + "blocks.0.mlp.w12.weight", 2).size(0) / 2)
                        : 0;
  if (!mlp_key.empty()) {
    const int64_t hidden = need(mlp_key, 2).size(0);
    if (hidden % c.embed_dim)
      throw ModelError(sd.source + ": '" + mlp_key + "' has width " + std::to_string(hidden) +
                       ", not a multiple of the embedding width " + std::to_string(c.embed_dim));
    c.mlp_ratio = static_cast<int>(hidden / c.embed_dim);
  } else {
    c.mlp_ratio = 4;
  }

  c.heads = 0;
  for (const auto& p : kPresets)
    if (p.dim == c.embed_dim) c.heads = p.heads;
  if (full) {
    const auto& ls = need("decoder.0.attn.learn_scale", 3);
    c.heads = static_cast<int>(ls.size(0));
    c.n_inps = static_cast<int>(need("prototype_token", 2).size(0));
    int nd = 0;
    while (sd.has("decoder." + std::to_string(nd) + ".attn.q.weight")) ++nd;
    c.n_decoder = nd;
    if (!sd.has("aggregation.0.attn.q.weight") || sd.has("aggregation.1.attn.q.weight"))
      throw ModelError(sd.source + ": expected exactly one INP extractor block (aggregation.0.*)");
  }
  if (c.heads == 0) c.heads = std::max(1, c.embed_dim / 64);
  // The official scripts pick the ViT-L tap list for 24-block encoders.
  if (depth == 24 && old_depth != 24 && c.taps == kTapsSB) c.taps = kTapsL;
  if (depth == 40 && old_depth != 40 && c.taps == kTapsSB) c.taps = kTapsG;
  // Taps and groups are not in the weights: the profile's [inpformer] group may
  // still set them (a shallow custom encoder cannot use the default 2..9), and
  // the caller validates the final config.
  c.validate_shapes();
  return c;
}

}  // namespace advad::inpformer
