// Parity with the official INP-Former code: the tiny-reg4 fixture (random
// weights, every intermediate stored by the official Python code; see
// tests/data/inpformer/README.md). Tolerance: 1e-5 absolute on every tensor.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "tensor_checks.h"
#include "test_support.h"
#include "core/tile_layout.h"
#include "inpformer/anomaly_map.h"
#include "inpformer/inpformer_weights.h"
#include "io/npy.h"
#include "io/state_dict.h"

using namespace advad;
using namespace advad::inpformer;

namespace {

constexpr double kTol = 1e-5;

std::string data(const std::string& rel) { return test::test_data("inpformer/" + rel); }

torch::Tensor ref(const std::string& name) { return load_npy(data(name + ".npy")); }


double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return test::max_abs_diff(a, b); }

#define EXPECT_CLOSE(name, mine, theirs)                                         \
  do {                                                                           \
    double d_ = max_diff((mine), (theirs));                                      \
    EXPECT_LE(d_, kTol) << name;                                                 \
    std::cout << "  " << name << ": max abs diff " << d_ << "\n";               \
  } while (0)

class Parity : public ::testing::TestWithParam<std::string> {};

void check_all_stages(InpFormerNet& net, const torch::Tensor& x) {
  torch::NoGradGuard ng;
  net->eval();
  EXPECT_CLOSE("pos_embed_interp", net->encoder->interpolated_pos_embed(28, 28), ref("pos_embed_interp"));
  EXPECT_CLOSE("tokens_in", net->encoder->prepare_tokens(x), ref("tokens_in"));
  auto out = net->forward(x, /*keep_intermediates=*/true);
  EXPECT_CLOSE("enc_taps", torch::stack(out.enc_taps), ref("enc_taps"));
  EXPECT_CLOSE("fused", out.fused, ref("fused"));
  EXPECT_CLOSE("prototypes", out.prototypes, ref("prototypes"));
  EXPECT_CLOSE("coherence_distance", out.distance, ref("coherence_distance"));
  EXPECT_CLOSE("bottleneck_out", out.bottleneck, ref("bottleneck_out"));
  EXPECT_CLOSE("decoder_out", torch::stack(out.decoder_out), ref("decoder_out"));
  auto gm = group_maps(out);  // [B,G,28,28]
  EXPECT_CLOSE("group_maps", gm.permute({1, 0, 2, 3}), ref("group_maps"));
  auto st = official_map(gm, x.size(2), x.size(3), 256, 0.01);
  EXPECT_CLOSE("anomaly_map_256_preblur", st.resized.squeeze(1), ref("anomaly_map_256_preblur"));
  EXPECT_CLOSE("anomaly_map", st.map.squeeze(1), ref("anomaly_map"));
  EXPECT_CLOSE("score", st.score, ref("score"));
}

}  // namespace

TEST_P(Parity, ConfigInferredFromWeightsMatchesFixture) {
  auto sd = load_state_dict(data(GetParam()));
  InpFormerConfig c = infer_config(sd);
  std::ifstream f(data("config.json"));
  auto j = nlohmann::json::parse(f);
  EXPECT_EQ(c.embed_dim, j["embed_dim"].get<int>());
  EXPECT_EQ(c.depth, j["depth"].get<int>());
  EXPECT_EQ(c.heads, j["num_heads"].get<int>());
  EXPECT_EQ(c.registers, j["num_register_tokens"].get<int>());
  EXPECT_EQ(c.img_size, j["img_size"].get<int>());
  EXPECT_EQ(c.patch_size, j["patch_size"].get<int>());
  EXPECT_EQ(c.n_inps, j["INP_num"].get<int>());
  EXPECT_EQ(c.n_decoder, j["n_decoder"].get<int>());
  EXPECT_EQ(c.taps, j["target_layers"].get<std::vector<int>>());
  EXPECT_EQ(c.enc_groups, j["fuse_layer_encoder"].get<std::vector<std::vector<int>>>());
  EXPECT_EQ(c.dec_groups, j["fuse_layer_decoder"].get<std::vector<std::vector<int>>>());
  EXPECT_DOUBLE_EQ(c.encoder_eps, j["encoder_ln_eps"].get<double>());
  EXPECT_DOUBLE_EQ(c.inp_eps, j["inp_ln_eps"].get<double>());
  EXPECT_DOUBLE_EQ(c.pos_offset, j["interpolate_offset"].get<double>());
}

TEST_P(Parity, EveryStageFromInputNpy) {
  auto sd = load_state_dict(data(GetParam()));
  auto net = make_inpformer_from_weights(sd);
  check_all_stages(net, ref("input"));
}

TEST_P(Parity, TrimmedEncoderGivesTheSameMap) {
  auto sd = load_state_dict(data(GetParam()));
  auto full = make_inpformer_from_weights(sd);
  auto trimmed = make_inpformer_from_weights(sd, {}, /*trim_encoder=*/true);
  EXPECT_EQ(trimmed->cfg.depth, 10);  // blocks 0..9 run, 10..11 and norm are not loaded
  torch::NoGradGuard ng;
  auto x = ref("input");
  auto a = group_maps(full->forward(x)), b = group_maps(trimmed->forward(x));
  EXPECT_TRUE(a.equal(b));
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, Parity, ::testing::Values("model.pth", "model_cuda.pth"),
                         [](const auto& info) { return info.param == "model.pth" ? "cpu_tags" : "cuda_tags"; });

// input.png through the official preprocessing (Resize 448 = identity here,
// CenterCrop 392, normalise) via the core's make_batch, then the whole model.
TEST(ParityPng, OfficialPreprocessingThenModel) {
  cv::Mat bgr = cv::imread(data("input.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(bgr.empty());
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  InputSpec in;
  in.width = in.height = 448;
  in.crop = 392;
  in.resize = ResizeFilter::PilBilinear;
  TileLayout layout = make_tile_layout(rgb.cols, rgb.rows, TilingSpec{});
  ASSERT_EQ(layout.tiles.size(), 1u);
  auto x = make_batch(rgb, layout, in, torch::kCPU);
  EXPECT_CLOSE("input", x, ref("input"));
  auto net = make_inpformer_from_weights(load_state_dict(data("model.pth")));
  check_all_stages(net, x);
}
