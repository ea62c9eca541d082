#include "inpformer/inpformer_net.h"

#include <cmath>

#include "core/error.h"

namespace advad::inpformer {

namespace {
// Mean over a list of same-shaped tensors, as the official fuse_feature (stack, mean).
torch::Tensor mean_of(const std::vector<torch::Tensor>& ts) { return torch::stack(ts, 1).mean(1); }

// The same in float32 (the group features the cosine maps compare, whatever the
// precision the network runs in).
torch::Tensor mean_of32(const std::vector<torch::Tensor>& ts) {
  if (ts.front().scalar_type() == torch::kFloat) return mean_of(ts);
  std::vector<torch::Tensor> f;
  for (const auto& t : ts) f.push_back(t.to(torch::kFloat));
  return mean_of(f);
}

torch::Tensor to_grid(const torch::Tensor& tokens, int64_t gh, int64_t gw) {
  return tokens.permute({0, 2, 1}).reshape({tokens.size(0), tokens.size(2), gh, gw}).contiguous();
}

// torch.nn.init.trunc_normal_ (inverse-CDF method) on the global generator.
void trunc_normal_(torch::Tensor t, double std, double a, double b) {
  auto cdf = [](double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); };
  const double l = cdf(a / std), u = cdf(b / std);
  t.uniform_(2 * l - 1, 2 * u - 1).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(a, b);
}
}  // namespace

InpFormerNetImpl::InpFormerNetImpl(const InpFormerConfig& c) : cfg(c) {
  cfg.validate();
  const int64_t D = cfg.embed_dim, H = cfg.heads, E = cfg.hidden_dim();
  prototype_token = register_parameter("prototype_token", torch::randn({cfg.n_inps, D}));
  encoder = register_module("encoder", Dinov2Encoder(cfg));
  bottleneck = register_module("bottleneck", torch::nn::ModuleList(Mlp(D, E)));
  aggregation = register_module("aggregation", torch::nn::ModuleList(InpExtractor(D, H, E, cfg.inp_eps)));
  decoder = register_module("decoder", torch::nn::ModuleList());
  for (int i = 0; i < cfg.n_decoder; ++i) decoder->push_back(InpDecoderBlock(D, H, E, cfg.inp_eps));
}

InpFormerOutput InpFormerNetImpl::forward(const torch::Tensor& x, bool keep_intermediates) {
  const int64_t p = cfg.patch_size;
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) % p || x.size(3) % p || x.size(2) == 0 || x.size(3) == 0)
    throw InputError("INP-Former input must be [B,3,H,W] with H and W positive multiples of " + std::to_string(p) +
                     "; got " + std::string(c10::str(x.sizes())));
  std::vector<torch::Tensor> taps;
  {
    torch::NoGradGuard ng;  // the encoder is frozen (official encoder_require_grad_layer = [])
    const int64_t skip = 1 + cfg.registers;
    for (auto& t : encoder->forward_taps(x, cfg.taps)) taps.push_back(t.slice(1, skip));
  }
  auto fused = [&] {
    torch::NoGradGuard ng;
    return mean_of(taps);
  }();
  return forward_from_fused(fused, x.size(2) / p, x.size(3) / p, taps, keep_intermediates);
}

InpFormerOutput InpFormerNetImpl::forward_from_fused(const torch::Tensor& fused, int64_t gh, int64_t gw,
                                                     const std::vector<torch::Tensor>& taps,
                                                     bool keep_intermediates) {
  const int64_t B = fused.size(0);
  if (fused.size(1) != gh * gw) throw InputError("fused tokens do not match the " + std::to_string(gh) + "x" +
                                                 std::to_string(gw) + " grid");
  InpFormerOutput out;
  out.grid_h = gh;
  out.grid_w = gw;
  out.fused = fused;
  auto protos = prototype_token.unsqueeze(0).repeat({B, 1, 1});
  for (auto& m : *aggregation) protos = m->as<InpExtractorImpl>()->forward(protos, fused);
  out.prototypes = protos;
  out.distance = coherence_distance(fused, protos);

  auto xb = bottleneck[0]->as<MlpImpl>()->forward(fused);
  if (keep_intermediates) out.bottleneck = xb;
  std::vector<torch::Tensor> de;
  auto h = xb;
  for (auto& m : *decoder) {
    h = m->as<InpDecoderBlockImpl>()->forward(h, protos);
    de.push_back(h);
  }
  if (keep_intermediates) {
    out.decoder_out = de;
    out.enc_taps = taps;
  }
  std::vector<torch::Tensor> rev(de.rbegin(), de.rend());
  for (size_t g = 0; g < cfg.enc_groups.size(); ++g) {
    std::vector<torch::Tensor> e, d;
    for (int i : cfg.enc_groups[g]) e.push_back(taps.at(i));
    for (int i : cfg.dec_groups[g]) d.push_back(rev.at(i));
    {
      torch::NoGradGuard ng;
      out.enc_groups.push_back(to_grid(mean_of32(e), gh, gw));
    }
    out.dec_groups.push_back(to_grid(mean_of32(d), gh, gw));
  }
  return out;
}

std::vector<torch::Tensor> InpFormerNetImpl::trainable_parameters() {
  std::vector<torch::Tensor> ps{prototype_token};
  for (auto* m : {bottleneck.ptr().get(), aggregation.ptr().get(), decoder.ptr().get()})
    for (auto& p : m->parameters()) ps.push_back(p);
  return ps;
}

void InpFormerNetImpl::init_trainable() {
  torch::NoGradGuard ng;
  prototype_token.normal_();
  for (auto* m : {bottleneck.ptr().get(), aggregation.ptr().get(), decoder.ptr().get()})
    for (auto& p : m->named_parameters()) {
      const std::string& k = p.key();
      auto ends = [&](const std::string& s) { return k.size() >= s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0; };
      bool is_norm = k.find("norm") != std::string::npos;
      if (ends("learn_scale")) p.value().fill_(1.0);
      else if (is_norm && ends("weight")) p.value().fill_(1.0);
      else if (ends("bias")) p.value().zero_();
      else trunc_normal_(p.value(), 0.01, -0.03, 0.03);
    }
}

void InpFormerNetImpl::freeze_encoder() {
  for (auto& p : encoder->parameters()) p.set_requires_grad(false);
}

torch::Tensor coherence_distance(const torch::Tensor& fused, const torch::Tensor& prototypes) {
  auto f = fused.to(torch::kFloat), p = prototypes.to(torch::kFloat);
  auto fn = f / f.norm(2, {-1}, true).clamp_min(1e-8);
  auto pn = p / p.norm(2, {-1}, true).clamp_min(1e-8);
  auto cos = fn.matmul(pn.transpose(1, 2));  // [B,N,M]
  return std::get<0>((1.0 - cos).min(-1));
}

}  // namespace advad::inpformer
