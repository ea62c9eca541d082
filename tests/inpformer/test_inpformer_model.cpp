// The INP-Former advad::Model backend, packages and the profile's [inpformer] group.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "core/error.h"
#include "core/model.h"
#include "core/tile_layout.h"
#include "inpformer/anomaly_map.h"
#include "inpformer/inpformer_package.h"
#include "inpformer/inpformer_weights.h"
#include "io/npy.h"

namespace fs = std::filesystem;
using namespace advad;
using namespace advad::inpformer;

namespace {

std::string model_data(const std::string& rel) { return fs::absolute(test::test_data("inpformer/" + rel)).string(); }
fs::path tmpdir() { return test::test_tmp_dir("inpmodel_test"); }

// A category profile next to nothing but the model path it names.
std::string write_profile(const std::string& name, const std::string& model, int crop, const std::string& extra = "") {
  fs::path p = tmpdir() / (name + ".ini");
  std::ofstream(p) << "[profile]\nmethod = inpformer\nmodel = " << model << "\n[input]\nwidth = 448\nheight = 448\ncrop = "
                   << crop << "\n" << extra;
  return p.string();
}

cv::Mat input_rgb() {
  cv::Mat bgr = cv::imread(model_data("input.png"), cv::IMREAD_COLOR), rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

using test::expect_error;

}  // namespace

TEST(InpFormerModel, OfficialPathReproducesTheFixtureInsideTheCrop) {
  Profile p = load_profile(write_profile("official", model_data("model.pth"), 392));
  auto model = create_inpformer_model(p, ModelOptions{});
  cv::Mat rgb = input_rgb();
  auto layout = make_tile_layout(rgb.cols, rgb.rows, p.tiling);
  auto batch = make_batch(rgb, layout, p.input, model->device());
  auto r = model->score(batch, {cv::Size(448, 448)});
  ASSERT_EQ(r.maps.size(), 1u);
  EXPECT_EQ(r.maps[0].sizes(), (std::vector<int64_t>{448, 448}));
  EXPECT_NEAR(r.scores[0], load_npy(model_data("score.npy"))[0].item<float>(), 1e-5);
  // The 256 official map, scaled to the 392 crop, sits at [28, 420); outside it is 0.
  auto ref = at::upsample_bilinear2d(load_npy(model_data("anomaly_map.npy")).unsqueeze(0), {392, 392}, false)[0][0];
  auto inside = r.maps[0].slice(0, 28, 420).slice(1, 28, 420);
  EXPECT_LE((inside - ref).abs().max().item<float>(), 1e-5);
  EXPECT_EQ(r.maps[0].slice(0, 0, 28).abs().max().item<float>(), 0.f);
  EXPECT_NE(model->describe().find("official"), std::string::npos);
}

TEST(InpFormerModel, SeedPathIsTheGridMapAtTileSize) {
  Profile p = load_profile(write_profile("seed", model_data("model.pth"), 0, "[inpformer]\nmap_path = seed\n"));
  auto model = create_inpformer_model(p, ModelOptions{});
  torch::manual_seed(1);
  auto batch = torch::randn({2, 3, 448, 448});
  std::vector<cv::Size> sizes{cv::Size(300, 200), cv::Size(150, 410)};
  auto r = model->score(batch, sizes);
  auto net = make_inpformer_from_weights(load_state_dict(model_data("model.pth")));
  torch::NoGradGuard ng;
  auto gm = group_maps(net->forward(batch));
  for (int b = 0; b < 2; ++b) {
    EXPECT_EQ(r.maps[b].size(0), sizes[b].height);
    EXPECT_EQ(r.maps[b].size(1), sizes[b].width);
    auto [m, s] = seed_tile_map(gm[b], sizes[b].height, sizes[b].width);
    EXPECT_LE((r.maps[b] - m).abs().max().item<float>(), 1e-5);
    EXPECT_NEAR(r.scores[b], s, 1e-5);
  }
}

TEST(InpFormerModel, PackageRoundTrip) {
  auto net = make_inpformer_from_weights(load_state_dict(model_data("model.pth")));
  Profile base = load_profile(write_profile("base", model_data("model.pth"), 392));
  MapSettings map;
  map.path = MapPath::Official;
  fs::path dir = tmpdir() / "package";
  std::string ini = save_package(dir.string(), net, base, map);
  EXPECT_TRUE(fs::exists(dir / "weights.pth"));
  Profile pkg = load_profile(ini);
  EXPECT_EQ(pkg.method, "inpformer");
  EXPECT_EQ(pkg.method_groups["inpformer"]["map_path"], "official");
  EXPECT_EQ(pkg.method_groups["inpformer"]["taps"], "2,3,4,5,6,7,8,9");
  auto loaded = load_package(dir.string());
  EXPECT_EQ(loaded.net->cfg.depth, 12);  // untrimmed: every block, as saved
  EXPECT_EQ(inpformer_state_dict(loaded.net).keys, load_state_dict(model_data("model.pth")).keys);
  expect_error<ModelError>([&] { load_package(tmpdir().string()); }, {"no profile.ini"});
  auto from_pkg = create_inpformer_model(pkg, ModelOptions{});
  auto from_pth = create_inpformer_model(base, ModelOptions{});
  auto batch = load_npy(model_data("input.npy"));
  auto a = from_pkg->score(batch, {cv::Size(448, 448)}), b = from_pth->score(batch, {cv::Size(448, 448)});
  EXPECT_TRUE(a.maps[0].equal(b.maps[0]));
  EXPECT_EQ(a.scores[0], b.scores[0]);
  // A category profile that points at the package folder may override map keys.
  Profile cat = load_profile(write_profile("cat", dir.string(), 392, "[inpformer]\nmap_path = seed\n"));
  auto seed = create_inpformer_model(cat, ModelOptions{});
  EXPECT_NE(seed->describe().find("seed"), std::string::npos);
}

TEST(InpFormerModel, ProfileKeysAreValidated) {
  std::string w = model_data("model.pth");
  auto make = [](const std::string& ini) { return create_inpformer_model(load_profile(ini), ModelOptions{}); };
  std::string p1 = write_profile("unknown_key", w, 392, "[inpformer]\nblocks = 3\n");
  expect_error<ProfileError>([&] { make(p1); }, {"unknown_key.ini", "[inpformer]", "blocks", "accepted keys"});
  std::string p2 = write_profile("wrong_encoder", w, 392, "[inpformer]\nencoder = vit_base\n");
  expect_error<ProfileError>([&] { make(p2); }, {"wrong_encoder.ini", "encoder", "vit_base", "does not match"});
  std::string p3 = write_profile("bad_path", w, 392, "[inpformer]\nmap_path = fancy\n");
  expect_error<ProfileError>([&] { make(p3); }, {"map_path", "fancy", "official | seed"});
  std::string p4 = write_profile("bad_taps", w, 392, "[inpformer]\ntaps = 2,x\n");
  expect_error<ProfileError>([&] { make(p4); }, {"taps", "'x'"});
  std::string p5 = write_profile("tap_range", w, 392, "[inpformer]\ntaps = 2,3,40\n");
  expect_error<ProfileError>([&] { make(p5); }, {"tap_range.ini", "tap 40"});
  std::string p6 = write_profile("heads", w, 392, "[inpformer]\nheads = 4\n");
  expect_error<ProfileError>([&] { make(p6); }, {"heads", "4 does not match", "3"});
  std::string p7 = write_profile("fp16", w, 392);
  ModelOptions half;
  half.precision = "fp16";
  half.device = "cpu";
  expect_error<ModelError>([&] { create_inpformer_model(load_profile(p7), half); }, {"fp16", "CUDA"});
  fs::create_directories(tmpdir() / "empty_pkg");
  std::string p8 = write_profile("empty_pkg", (tmpdir() / "empty_pkg").string(), 392);
  expect_error<ModelError>([&] { make(p8); }, {"empty_pkg", "weights.pth"});
}
