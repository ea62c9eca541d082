// General INP-Former network tests: other widths / depths / tap lists, no
// registers, batches, 448 without crop (seed path), save/load round trips,
// official key names, and clear errors. Other architectures are checked
// against an independent functional re-implementation written here from the
// specification (per-head loops over state-dict tensors), which itself is
// first checked against the official fixture.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "tensor_checks.h"
#include "test_support.h"
#include "core/error.h"
#include "inpformer/anomaly_map.h"
#include "inpformer/inpformer_weights.h"
#include "inpformer/vit_block.h"
#include "io/npy.h"
#include "io/state_dict.h"

namespace fs = std::filesystem;
using namespace advad;
using namespace advad::inpformer;
namespace F = torch::nn::functional;

namespace {

std::string net_data(const std::string& rel) { return test::test_data("inpformer/" + rel); }
std::string net_tmp(const std::string& name) { return test::test_tmp("inp_test", name); }
double net_max_diff(const torch::Tensor& a, const torch::Tensor& b) { return test::max_abs_diff(a, b); }

// ---- independent reference (spec-driven, per-head loops) --------------------
struct Ref {
  const StateDict& sd;
  const InpFormerConfig& c;
  torch::Tensor w(const std::string& k) const { return sd.at(k); }
  torch::Tensor lin(const torch::Tensor& x, const std::string& k) const {
    return x.matmul(w(k + ".weight").t()) + w(k + ".bias");
  }
  torch::Tensor ln(const torch::Tensor& x, const std::string& k, double eps) const {
    auto mu = x.mean(-1, true);
    auto var = (x - mu).pow(2).mean(-1, true);
    return (x - mu) / (var + eps).sqrt() * w(k + ".weight") + w(k + ".bias");
  }
  torch::Tensor mlp(const torch::Tensor& x, const std::string& k) const {
    if (sd.has(k + ".w12.weight")) {  // DINOv2's fused SwiGLU: rows [0,H) gate through SiLU, rows [H,2H) linear
      const auto w12 = w(k + ".w12.weight"), b12 = w(k + ".w12.bias");
      const int64_t H = w12.size(0) / 2;
      auto a = x.matmul(w12.slice(0, 0, H).t()) + b12.slice(0, 0, H);
      auto g = x.matmul(w12.slice(0, H, 2 * H).t()) + b12.slice(0, H, 2 * H);
      return lin(a / (1 + torch::exp(-a)) * g, k + ".w3");
    }
    auto h = lin(x, k + ".fc1");
    h = 0.5 * h * (1 + torch::erf(h / std::sqrt(2.0)));
    return lin(h, k + ".fc2");
  }
  // One head at a time; kind 0 = softmax (scaled), 1 = normalised q/k + ReLU with learn_scale.
  torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int kind,
                          const torch::Tensor& learn_scale) const {
    const int64_t D = c.embed_dim, hd = c.head_dim();
    std::vector<torch::Tensor> outs;
    for (int h = 0; h < c.heads; ++h) {
      auto qh = q.slice(-1, h * hd, (h + 1) * hd), kh = k.slice(-1, h * hd, (h + 1) * hd),
           vh = v.slice(-1, h * hd, (h + 1) * hd);
      torch::Tensor a;
      if (kind == 0) {
        auto s = qh.matmul(kh.transpose(-1, -2)) / std::sqrt(double(hd));
        auto e = (s - std::get<0>(s.max(-1, true))).exp();
        a = e / e.sum(-1, true);
      } else {
        auto qn = qh / qh.norm(2, {-1}, true).clamp_min(1e-12), kn = kh / kh.norm(2, {-1}, true).clamp_min(1e-12);
        a = (qn.matmul(kn.transpose(-1, -2)) * learn_scale[h].item<float>()).clamp_min(0);
      }
      outs.push_back(a.matmul(vh));
    }
    (void)D;
    return torch::cat(outs, -1);
  }
  std::vector<torch::Tensor> taps(const torch::Tensor& x) const {
    const int64_t B = x.size(0), D = c.embed_dim, M = c.pos_grid(), gh = x.size(2) / 14, gw = x.size(3) / 14;
    auto t = torch::conv2d(x, w("encoder.patch_embed.proj.weight"), w("encoder.patch_embed.proj.bias"), 14);
    t = t.flatten(2).transpose(1, 2);
    auto pe = w("encoder.pos_embed");
    torch::Tensor pos;
    if (gh == M && gw == M) {
      pos = pe;
    } else {
      auto g = pe.slice(1, 1).reshape({1, M, M, D}).permute({0, 3, 1, 2});
      g = F::interpolate(g, F::InterpolateFuncOptions()
                                .scale_factor(std::vector<double>{(gh + 0.1) / M, (gw + 0.1) / M})
                                .mode(torch::kBicubic)
                                .align_corners(false));
      pos = torch::cat({pe.slice(1, 0, 1), g.permute({0, 2, 3, 1}).reshape({1, -1, D})}, 1);
    }
    t = torch::cat({w("encoder.cls_token").expand({B, 1, D}), t}, 1) + pos;
    if (c.registers) t = torch::cat({t.slice(1, 0, 1), w("encoder.register_tokens").expand({B, -1, -1}), t.slice(1, 1)}, 1);
    std::vector<torch::Tensor> out;
    for (int i = 0; i <= c.taps.back(); ++i) {
      std::string b = "encoder.blocks." + std::to_string(i);
      auto h = ln(t, b + ".norm1", 1e-6);
      auto qkv = lin(h, b + ".attn.qkv");
      auto a = attention(qkv.slice(-1, 0, D), qkv.slice(-1, D, 2 * D), qkv.slice(-1, 2 * D), 0, {});
      t = t + lin(a, b + ".attn.proj") * w(b + ".ls1.gamma");
      t = t + mlp(ln(t, b + ".norm2", 1e-6), b + ".mlp") * w(b + ".ls2.gamma");
      if (std::find(c.taps.begin(), c.taps.end(), i) != c.taps.end()) out.push_back(t.slice(1, 1 + c.registers));
    }
    return out;
  }
  // group maps [B,G,gh,gw]
  torch::Tensor maps(const torch::Tensor& x) const {
    const int64_t B = x.size(0), D = c.embed_dim, gh = x.size(2) / 14, gw = x.size(3) / 14;
    auto tp = taps(x);
    auto fused = torch::zeros_like(tp[0]);
    for (auto& t : tp) fused = fused + t / double(tp.size());
    auto P = w("prototype_token").unsqueeze(0).expand({B, -1, -1});
    auto pn = ln(P, "aggregation.0.norm1", 1e-8), fn = ln(fused, "aggregation.0.norm1", 1e-8);
    auto kv = lin(fn, "aggregation.0.attn.kv");
    P = P + lin(attention(lin(pn, "aggregation.0.attn.q"), kv.slice(-1, 0, D), kv.slice(-1, D), 0, {}),
                "aggregation.0.attn.proj");
    P = P + mlp(ln(P, "aggregation.0.norm2", 1e-8), "aggregation.0.mlp");
    auto h = mlp(fused, "bottleneck.0");
    std::vector<torch::Tensor> de;
    for (int l = 0; l < c.n_decoder; ++l) {
      std::string b = "decoder." + std::to_string(l);
      auto kvp = lin(ln(P, b + ".norm1", 1e-8), b + ".attn.kv");
      auto y = lin(attention(lin(ln(h, b + ".norm1", 1e-8), b + ".attn.q"), kvp.slice(-1, 0, D), kvp.slice(-1, D), 1,
                             w(b + ".attn.learn_scale").flatten()),
                   b + ".attn.proj");
      h = y + mlp(ln(y, b + ".norm2", 1e-8), b + ".mlp");
      de.push_back(h);
    }
    std::vector<torch::Tensor> ms;
    for (size_t g = 0; g < c.enc_groups.size(); ++g) {
      auto e = torch::zeros_like(fused), d = torch::zeros_like(fused);
      for (int i : c.enc_groups[g]) e = e + tp[i] / double(c.enc_groups[g].size());
      for (int i : c.dec_groups[g]) d = d + de[c.n_decoder - 1 - i] / double(c.dec_groups[g].size());
      auto cos = (e * d).sum(-1) / (e.norm(2, {-1}) * d.norm(2, {-1}));
      ms.push_back((1 - cos).reshape({B, gh, gw}));
    }
    return torch::stack(ms, 1);
  }
};

InpFormerConfig small_config() {
  InpFormerConfig c;
  c.embed_dim = 32;
  c.heads = 2;
  c.depth = 6;
  c.registers = 0;
  c.img_size = 14 * 8;  // 8x8 position table
  c.taps = {1, 2, 4, 5};
  c.n_inps = 3;
  c.n_decoder = 4;
  c.enc_groups = {{0, 1}, {2, 3}};
  c.dec_groups = {{0, 1}, {2, 3}};
  return c;
}

// Random weights everywhere, with perturbations so that every parameter matters.
InpFormerNet random_net(const InpFormerConfig& c, int seed) {
  torch::manual_seed(seed);
  InpFormerNet net(c);
  net->init_trainable();
  torch::NoGradGuard ng;
  for (auto& p : net->named_parameters()) {
    const std::string& k = p.key();
    if (k.find("norm") != std::string::npos || k.find("gamma") != std::string::npos ||
        k.find("learn_scale") != std::string::npos)
      p.value().uniform_(0.5, 1.5);
    else if (k.find("bias") != std::string::npos)
      p.value().normal_(0, 0.05);
    else if (k.find("token") != std::string::npos || k.find("pos_embed") != std::string::npos)
      p.value().normal_(0, 0.5);
    else if (k.rfind("encoder.", 0) != 0)
      p.value().mul_(5);
  }
  return net;
}

using test::expect_error;

}  // namespace

TEST(Reference, MatchesTheOfficialFixture) {
  auto sd = load_state_dict(net_data("model.pth"));
  auto c = infer_config(sd);
  torch::NoGradGuard ng;
  auto m = Ref{sd, c}.maps(load_npy(net_data("input.npy")));
  EXPECT_LE(net_max_diff(m.permute({1, 0, 2, 3}), load_npy(net_data("group_maps.npy"))), 1e-5);
}

struct Arch {
  const char* name;
  int dim, heads, depth, registers;
  std::vector<int> taps;
  std::vector<std::vector<int>> groups;
  int decoder, side;
  int swiglu = 0;  // > 0: SwiGLU encoder FFN of this width (ViT-g style)
};

class OtherArchitectures : public ::testing::TestWithParam<Arch> {};

TEST_P(OtherArchitectures, MatchReferenceAndRoundTrip) {
  const Arch& a = GetParam();
  InpFormerConfig c = small_config();
  c.embed_dim = a.dim;
  c.heads = a.heads;
  c.depth = a.depth;
  c.registers = a.registers;
  c.taps = a.taps;
  c.enc_groups = a.groups;
  c.dec_groups = a.groups;
  c.n_decoder = a.decoder;
  c.swiglu_hidden = a.swiglu;
  auto net = random_net(c, 7);
  auto sd = inpformer_state_dict(net);
  torch::NoGradGuard ng;
  torch::manual_seed(3);
  auto x = torch::randn({1, 3, a.side, a.side});
  auto mine = group_maps(net->forward(x));
  auto theirs = Ref{sd, c}.maps(x);
  EXPECT_LE(net_max_diff(mine, theirs), 1e-5) << a.name;

  // Save / load round trip through a file: identical outputs.
  std::string p = net_tmp(std::string(a.name) + ".pth");
  save_state_dict(sd, p);
  InpFormerConfig base;  // taps and groups are not in the weights: give them
  base.taps = c.taps;
  base.enc_groups = c.enc_groups;
  base.dec_groups = c.dec_groups;
  base.n_decoder = c.n_decoder;
  auto back = make_inpformer_from_weights(load_state_dict(p), base);
  EXPECT_EQ(back->cfg.embed_dim, c.embed_dim);
  EXPECT_EQ(back->cfg.heads, c.heads);
  EXPECT_EQ(back->cfg.depth, c.depth);
  EXPECT_EQ(back->cfg.registers, c.registers);
  EXPECT_EQ(back->cfg.img_size, c.img_size);
  EXPECT_EQ(back->cfg.swiglu_hidden, c.swiglu_hidden);
  EXPECT_EQ(back->cfg.mlp_ratio, c.mlp_ratio);
  EXPECT_TRUE(group_maps(back->forward(x)).equal(mine)) << a.name;
}

INSTANTIATE_TEST_SUITE_P(
    Archs, OtherArchitectures,
    ::testing::Values(Arch{"no_registers", 32, 2, 6, 0, {1, 2, 4, 5}, {{0, 1}, {2, 3}}, 4, 112},
                      Arch{"registers_wider", 64, 4, 5, 4, {0, 2, 3}, {{0}, {1, 2}}, 3, 98},
                      Arch{"three_groups_five_decoders", 24, 3, 4, 2, {0, 1, 2, 3}, {{0}, {1, 2}, {3}}, 5, 126},
                      Arch{"table_size_input", 32, 2, 3, 1, {1, 2}, {{0, 1}}, 2, 112},
                      Arch{"swiglu_encoder", 32, 2, 3, 4, {0, 1, 2}, {{0, 1}, {2}}, 3, 84, 24}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(InpFormerNet, BatchItemsEqualSingleRuns) {
  auto net = make_inpformer_from_weights(load_state_dict(net_data("model.pth")));
  torch::NoGradGuard ng;
  torch::manual_seed(5);
  auto x = torch::randn({3, 3, 182, 182});
  auto batch = net->forward(x);
  auto gm = group_maps(batch);
  for (int b = 0; b < 3; ++b) {
    auto one = net->forward(x.slice(0, b, b + 1));
    EXPECT_LE(net_max_diff(group_maps(one), gm.slice(0, b, b + 1)), 1e-5) << b;
    EXPECT_LE(net_max_diff(one.prototypes, batch.prototypes.slice(0, b, b + 1)), 1e-5) << b;
    EXPECT_LE(net_max_diff(one.distance, batch.distance.slice(0, b, b + 1)), 1e-5) << b;
  }
}

TEST(InpFormerNet, SeedPath448WithoutCrop) {
  auto sd = load_state_dict(net_data("model.pth"));
  auto c = infer_config(sd);
  auto net = make_inpformer_from_weights(sd);
  torch::NoGradGuard ng;
  torch::manual_seed(9);
  auto x = torch::randn({2, 3, 448, 448});
  auto out = net->forward(x);
  EXPECT_EQ(out.grid_h, 32);
  auto gm = group_maps(out);
  EXPECT_LE(net_max_diff(gm.slice(0, 0, 1), Ref{sd, c}.maps(x.slice(0, 0, 1))), 1e-5);
  // Per tile: upsample (align_corners=True) to the tile's size, blur, top-1 % score.
  auto [map, score] = seed_tile_map(gm[1], 300, 260);
  EXPECT_EQ(map.sizes(), (std::vector<int64_t>{300, 260}));
  // Corners of an align_corners upsampling equal the grid corners (before the blur).
  auto up = F::interpolate(gm[1].unsqueeze(0), F::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{300, 260})
                                                   .mode(torch::kBilinear)
                                                   .align_corners(true))
                .mean(1, true);
  EXPECT_NEAR(up[0][0][0][0].item<float>(), gm[1].mean(0)[0][0].item<float>(), 1e-6);
  EXPECT_LE(net_max_diff(map, gaussian_blur(up)[0][0]), 1e-6);
  auto sorted = std::get<0>(map.flatten().sort(0, true));
  EXPECT_NEAR(score, sorted.slice(0, 0, 780).mean().item<float>(), 1e-6);  // int(300*260*0.01) = 780
}

TEST(InpFormerNet, OfficialKeyNamesAndOrder) {
  auto official = load_state_dict(net_data("model.pth"));
  auto net = make_inpformer_from_weights(official);
  auto mine = inpformer_state_dict(net);
  EXPECT_EQ(mine.keys, official.keys);
  InpFormerNet small(preset_config("vit_small"));
  EXPECT_EQ(inpformer_state_dict(small).keys.size(), 315u);  // documented entry count of ViT-S/B
  EXPECT_EQ(preset_config("vit_large").taps, (std::vector<int>{4, 6, 8, 10, 12, 14, 16, 18}));
  EXPECT_THROW(preset_config("vit_huge"), ModelError);
}

TEST(InpFormerNet, TrainablePartsGetGradientsEncoderDoesNot) {
  auto net = random_net(small_config(), 1);
  net->freeze_encoder();
  auto out = net->forward(torch::randn({2, 3, 56, 56}));
  auto loss = group_maps(out).mean() + out.distance.mean();
  loss.backward();
  for (auto& p : net->trainable_parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0);
  }
  for (auto& p : net->encoder->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(InpFormerNet, Dinov2EncoderOnlyWeights) {
  auto full = load_state_dict(net_data("model.pth"));
  auto enc = strip_prefix(full, "encoder.");
  EXPECT_EQ(weights_kind(enc), WeightsKind::Dinov2);
  auto c = infer_config(enc);
  EXPECT_EQ(c.embed_dim, 48);
  EXPECT_EQ(c.registers, 4);
  InpFormerNet net(c);
  load_inpformer_weights(net, enc);
  EXPECT_TRUE(net->encoder->pos_embed.equal(full.at("encoder.pos_embed")));
}

// ViT-g/14 preset: DINOv2's giant encoder (fused SwiGLU FFN, 40 blocks); only
// the shapes are checked here (no ViT-g weights ship, and a forward needs GBs).
TEST(InpFormerNet, GiantPresetHasDinov2Shapes) {
  const InpFormerConfig c = preset_config("vit_giant");
  EXPECT_EQ(c.embed_dim, 1536);
  EXPECT_EQ(c.depth, 40);
  EXPECT_EQ(c.heads, 24);
  EXPECT_EQ(c.swiglu_hidden, 4096);
  EXPECT_EQ(c.taps, (std::vector<int>{7, 10, 13, 17, 20, 23, 27, 30}));
  EXPECT_EQ(encoder_name(c), "vit_giant");
  c.validate();
  VitBlock block(c.embed_dim, c.heads, c.hidden_dim(), c.encoder_eps, c.swiglu_hidden);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : block->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  EXPECT_EQ(shapes["mlp.w12.weight"], (std::vector<int64_t>{8192, 1536}));
  EXPECT_EQ(shapes["mlp.w3.weight"], (std::vector<int64_t>{1536, 4096}));
  EXPECT_EQ(shapes.count("mlp.fc1.weight"), 0u);
}

TEST(InpFormerErrors, BadWeightsAndInputs) {
  auto sd = load_state_dict(net_data("model.pth"));
  sd.source = "model.pth";
  // A shape mismatch names the key and both shapes.
  InpFormerConfig c = infer_config(sd);
  c.n_inps = 5;
  InpFormerNet net(c);
  expect_error<ModelError>([&] { load_inpformer_weights(net, sd); }, {"model.pth", "'prototype_token'", "[6, 48]", "[5, 48]"});
  // A missing key.
  StateDict missing = sd;
  missing.tensors.erase("decoder.3.attn.kv.bias");
  missing.keys.erase(std::find(missing.keys.begin(), missing.keys.end(), "decoder.3.attn.kv.bias"));
  expect_error<ModelError>([&] { make_inpformer_from_weights(missing); }, {"model.pth", "decoder.3.attn.kv.bias"});
  // Not INP-Former weights at all.
  StateDict other;
  other.source = "other.pth";
  other.keys = {"fc.weight"};
  other.tensors["fc.weight"] = torch::zeros({2, 2});
  expect_error<ModelError>([&] { make_inpformer_from_weights(other); }, {"other.pth", "neither"});
  // Taps beyond the encoder.
  InpFormerConfig bad = infer_config(sd);
  bad.taps = {2, 12};
  expect_error<ModelError>([&] { bad.validate(); }, {"tap 12"});
  // Inputs that are not multiples of the patch size.
  auto good = make_inpformer_from_weights(sd);
  torch::NoGradGuard ng;
  expect_error<InputError>([&] { good->forward(torch::zeros({1, 3, 100, 112})); }, {"multiples of 14"});
  expect_error<InputError>([&] { good->forward(torch::zeros({1, 1, 112, 112})); }, {"[B,3,H,W]"});
}
