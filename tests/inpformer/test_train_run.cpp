// INP-Former training end to end: augmentations, the tiled training set, the
// [train] settings, the training loop (loss goes down, checkpoint + resume
// equals an uninterrupted run, the package loads) and a short training on a
// generated category whose AU-PRO must clearly beat a random map's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "aupro_check.h"
#include "tensor_checks.h"
#include "test_support.h"
#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "core/tile_layout.h"
#include "data/mini_dataset.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"
#include "inpformer/train_augment.h"
#include "inpformer/train_data.h"
#include "inpformer/train_loop.h"
#include "inpformer/train_settings.h"
#include "io/state_dict.h"
#include "metrics/object_eval.h"

namespace fs = std::filesystem;
using namespace advad;
using namespace advad::inpformer;
using advad::test::expect_error;

namespace {

fs::path tmp(const std::string& name) { return advad::test::test_tmp_dir("inptrain") / name; }

// Folder with n smooth gray-ish RGB images of w x h (deterministic).
std::string write_images(const fs::path& dir, int n, int w, int h) {
  fs::create_directories(dir);
  for (int i = 0; i < n; ++i) {
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int v = 110 + static_cast<int>(30 * std::sin(0.2 * x + 0.3 * y + i));
        img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(v), static_cast<uchar>(v + 5), static_cast<uchar>(v - 5));
      }
    cv::imwrite((dir / ("img_" + std::to_string(i) + ".png")).string(), img);
  }
  return dir.string();
}

// A tiny INP-Former profile with a random frozen encoder.
std::string write_profile(const fs::path& dir, const std::string& data, int input, const std::string& extra_train,
                          const std::string& levels = "1x1") {
  fs::create_directories(dir);
  const std::string path = (dir / "train.ini").string();
  std::ofstream f(path);
  f << "[profile]\ncategory = tiny\nmethod = inpformer\nmodel = pkg\n"
    << "[input]\nwidth = " << input << "\nheight = " << input << "\ncrop = 0\nresize = pil-bilinear\n"
    << "[tiling]\nlevels = " << levels << "\n[threshold]\ndefault = 0.5\n"
    << "[inpformer]\nencoder = custom\nembed_dim = 48\ndepth = 2\nheads = 2\nregisters = 4\ntaps = 0,1\n"
    << "groups = 0;1\ndecoder_blocks = 2\nmap_path = seed\n"
    << "[train]\n"
    << test::ini_group_lines(
           {{"data", data}, {"encoder_weights", "random"}, {"batch", "4"}, {"warmup", "5"}, {"checkpoint_every", "0"}},
           extra_train);
  return path;
}

TrainSettings settings_of(const std::string& ini) { return parse_train_settings(load_profile(ini, false)); }

}  // namespace

// ---- augmentations ----

TEST(TrainAugment, BrightnessMatchesPil) {
  // Expected rows: PIL 9.4 ImageEnhance.Brightness(img).enhance(f) on these values.
  const std::vector<uchar> in{0, 1, 50, 100, 101, 128, 170, 200, 254, 255};
  const std::vector<std::pair<double, std::vector<uchar>>> pil{
      {0.7, {0, 0, 35, 70, 70, 89, 119, 140, 177, 178}},
      {1.5, {0, 1, 75, 150, 151, 192, 255, 255, 255, 255}},
      {0.5, {0, 0, 25, 50, 50, 64, 85, 100, 127, 127}},
      {1.2, {0, 1, 60, 120, 121, 153, 204, 240, 255, 255}},
      {1.37, {0, 1, 68, 137, 138, 175, 232, 255, 255, 255}}};
  for (const auto& [f, want] : pil) {
    cv::Mat m(1, static_cast<int>(in.size()), CV_8UC3);
    for (int i = 0; i < m.cols; ++i) m.at<cv::Vec3b>(0, i) = cv::Vec3b(in[i], in[i], in[i]);
    brighten(m, f);
    for (int i = 0; i < m.cols; ++i)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(m.at<cv::Vec3b>(0, i)[c], want[i]) << "factor " << f << " value " << int(in[i]);
  }
}

TEST(TrainAugment, DeterministicPerSlotAndFlipsAboutHalf) {
  cv::Mat base(32, 32, CV_8UC3);
  cv::randu(base, 0, 256);
  AugmentSpec spec;
  spec.hflip = spec.vflip = spec.lighting = true;
  int hflips = 0, lit = 0;
  const int n = 400;
  for (int s = 0; s < n; ++s) {
    cv::Mat a = base.clone(), b = base.clone();
    TrainRng ra(7, 1, static_cast<uint64_t>(s), 0), rb(7, 1, static_cast<uint64_t>(s), 0);
    const Lighting la = augment(a, spec, ra), lb = augment(b, spec, rb);
    EXPECT_EQ(la, lb);
    ASSERT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0) << "same (seed, step, slot) must give the same sample";
    if (la != Lighting::None) ++lit;
    // Without lighting a pure flip keeps the pixel multiset; detect h-flip on a lighting-free copy.
    AugmentSpec only_h;
    only_h.hflip = true;
    cv::Mat c = base.clone();
    TrainRng rc(7, 2, static_cast<uint64_t>(s), 0);
    augment(c, only_h, rc);
    cv::Mat flipped;
    cv::flip(base, flipped, 1);
    if (cv::norm(c, flipped, cv::NORM_INF) == 0.0) ++hflips;
    else ASSERT_EQ(cv::norm(c, base, cv::NORM_INF), 0.0);
  }
  // Binomial(400, 0.5): mean 200, sd 10; 5 sd bounds.
  EXPECT_GT(hflips, 150);
  EXPECT_LT(hflips, 250);
  EXPECT_GT(lit, 150);
  EXPECT_LT(lit, 250);
}

TEST(TrainAugment, LeftRightLighting) {
  cv::Mat m(4, 8, CV_8UC3, cv::Scalar(100, 100, 100));
  TrainRng rng(1);
  apply_lighting(m, Lighting::LeftRight, rng);
  EXPECT_EQ(m.at<cv::Vec3b>(0, 0)[0], 150);  // left half x 1.5
  EXPECT_EQ(m.at<cv::Vec3b>(3, 7)[2], 70);   // right half x 0.7
}

// ---- tiled training set ----

TEST(TrainData, SeedTilesAndNames) {
  const auto dir = write_images(tmp("tiles/train/good"), 2, 96, 64);
  TrainDataSpec spec;
  spec.folder = tmp("tiles").string();
  spec.grids = {GridLevel{2, 2}, GridLevel{4, 2}};
  spec.full_image = true;
  spec.input.width = spec.input.height = 28;
  TileDataset ds(spec);
  EXPECT_EQ(ds.images().size(), 2u);
  ASSERT_EQ(ds.size(), 2u * (4 + 8 + 1));
  std::set<std::string> names;
  for (size_t i = 0; i < ds.size(); ++i) {
    names.insert(ds.ref(i).name);
    const cv::Mat t = ds.tile(i);
    EXPECT_EQ(t.cols, 28);
    EXPECT_EQ(t.rows, 28);
    EXPECT_EQ(t.type(), CV_8UC3);
  }
  EXPECT_EQ(names.size(), ds.size()) << "tile names must be unique";
  // A 4x2 tile of a 96x64 image is 24x32 pixels.
  bool found = false;
  for (size_t i = 0; i < ds.size(); ++i)
    if (ds.ref(i).rect.width == 24 && ds.ref(i).rect.height == 32) found = true;
  EXPECT_TRUE(found);
}

TEST(TrainData, CacheBudgetGivesSameTiles) {
  write_images(tmp("cache/train/good"), 3, 64, 64);
  TrainDataSpec spec;
  spec.folder = tmp("cache").string();
  spec.grids = {GridLevel{2, 2}};
  spec.input.width = spec.input.height = 28;
  TileDataset cached(spec);
  spec.cache_bytes = 0;
  TileDataset uncached(spec);
  EXPECT_EQ(uncached.cached(), 0u);
  EXPECT_EQ(cached.cached(), cached.size());
  for (size_t i = 0; i < cached.size(); ++i) EXPECT_EQ(cv::norm(cached.tile(i), uncached.tile(i), cv::NORM_INF), 0.0);
}

TEST(TrainData, ErrorsNameTheFolderOrFile) {
  TrainDataSpec spec;
  spec.folder = tmp("nowhere").string();
  expect_error<InputError>([&] { TileDataset d(spec); }, {"nowhere"});
  fs::create_directories(tmp("empty/train/good"));
  spec.folder = tmp("empty").string();
  expect_error<InputError>([&] { TileDataset d(spec); }, {"empty"});
  write_images(tmp("corrupt/train/good"), 1, 32, 32);
  std::ofstream(tmp("corrupt/train/good/broken.png")) << "not a png";
  spec.folder = tmp("corrupt").string();
  expect_error<InputError>([&] { TileDataset d(spec); }, {"broken.png"});
}

// ---- settings ----

// The path rule (the same as CPR's): [train] paths relative to the profile's
// folder, command-line ones relative to the working directory.
TEST(TrainSettingsTest, ProfilePathsFromItsFolderCommandLinePathsFromWorkingDirectory) {
  advad::test::TempDir d("inp_paths");
  const std::string ini = d.write("cat.ini",
                                  "[profile]\nmethod = inpformer\nmodel = pkg\n\n[train]\ndata = imgs\n"
                                  "encoder_weights = w/dinov2.pth\n");
  const fs::path dir = fs::absolute(d.path()).lexically_normal();
  TrainSettings s = parse_train_settings(load_profile(ini, false));
  EXPECT_EQ(s.data, (dir / "imgs").string());
  EXPECT_EQ(s.encoder_weights, (dir / "w/dinov2.pth").string());
  const fs::path cwd = fs::current_path();
  ASSERT_NE(cwd.lexically_normal(), dir);
  s = parse_train_settings(load_profile(ini, false), {{"data", "c/imgs"}, {"encoder_weights", "c/d.pth"}});
  EXPECT_EQ(s.data, (cwd / "c/imgs").lexically_normal().string());
  EXPECT_EQ(s.encoder_weights, (cwd / "c/d.pth").lexically_normal().string());
  expect_error<ProfileError>([&] { parse_train_settings(load_profile(ini, false), {{"lr", "0"}}); },
                             {"command line --lr ([train] lr): value 0 out of range; accepted: 0 < value <= 10"});
}

TEST(TrainSettingsTest, DefaultsOverridesAndErrors) {
  const auto data = write_images(tmp("set/imgs"), 1, 32, 32);
  const auto ini = write_profile(tmp("set"), data, 28, "grids = 2x2;4x4\nhflip = true\n");
  TrainSettings s = settings_of(ini);
  EXPECT_EQ(s.batch, 4);
  ASSERT_EQ(s.grids.size(), 2u);
  EXPECT_TRUE(s.hflip);
  EXPECT_FALSE(s.vflip);
  EXPECT_DOUBLE_EQ(s.lr, 1e-3);
  EXPECT_DOUBLE_EQ(s.clip, 0.1);
  s = parse_train_settings(load_profile(ini, false), {{"batch", "2"}, {"iterations", "7"}});
  EXPECT_EQ(s.batch, 2);
  EXPECT_EQ(s.iterations, 7);
  expect_error<ProfileError>([&] { parse_train_settings(load_profile(ini, false), {{"batch", "zero"}}); }, {"batch", "zero"});
  const auto bad = write_profile(tmp("set_bad"), data, 28, "lerning_rate = 1\n");
  expect_error<ProfileError>([&] { settings_of(bad); }, {"lerning_rate", "[train]"});
  // Encoder weights that do not exist: ModelError naming the file.
  const auto missing = write_profile(tmp("set_m"), data, 28, "");
  {
    std::ifstream in(missing);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("encoder_weights = random"), 24, "encoder_weights = dinov2_missing.pth");
    std::ofstream(missing) << text;
  }
  const Profile p = load_profile(missing, false);
  const TrainSettings sm = parse_train_settings(p);
  expect_error<ModelError>([&] { training_spec(p, sm, nullptr); }, {"dinov2_missing.pth"});
}

// ---- the training loop ----

TEST(TrainLoop, LossGoesDownAndPackageLoads) {
  const auto data = write_images(tmp("loop/imgs"), 6, 64, 64);
  const auto ini = write_profile(tmp("loop"), data, 56, "iterations = 30\ngrids = 2x2\n");
  const Profile p = load_profile(ini, false);
  train::RunOptions o;
  o.output = tmp("loop/pkg").string();
  const TrainRunResult r = run_inpformer_training(p, parse_train_settings(p), o);
  ASSERT_EQ(r.losses.size(), 30u);
  EXPECT_EQ(r.tiles, 6u * 5);
  const double first = (r.losses[0] + r.losses[1] + r.losses[2]) / 3;
  const double last = (r.losses[27] + r.losses[28] + r.losses[29]) / 3;
  EXPECT_LT(last, 0.7 * first) << "first " << first << " last " << last;
  ASSERT_FALSE(r.package_profile.empty());
  EXPECT_TRUE(r.checkpoint.empty()) << "the checkpoint is removed once the package exists";

  const Profile pkg = load_profile(r.package_profile);
  ModelOptions mo;
  mo.device = "cpu";
  auto model = create_model(pkg, mo);
  FrameScorer scorer(std::make_shared<Profile>(pkg), std::move(model), 0);
  cv::Mat img = cv::imread(data + "/img_0.png");
  cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  const AnomalyMap am = scorer.score(img, PixelFormat::RGB, make_tile_layout(img.cols, img.rows, pkg.tiling));
  EXPECT_EQ(am.map.size(), img.size());
  EXPECT_TRUE(std::isfinite(am.score));
}

TEST(TrainLoop, ResumeEqualsUninterrupted) {
  const auto data = write_images(tmp("resume/imgs"), 4, 48, 48);
  const auto ini = write_profile(tmp("resume"), data, 28, "iterations = 8\nhflip = true\nlighting = true\n");
  const Profile p = load_profile(ini, false);
  const TrainSettings s = parse_train_settings(p);

  train::RunOptions straight;
  straight.output = tmp("resume/a").string();
  const auto ra = run_inpformer_training(p, s, straight);

  train::RunOptions first;
  first.output = tmp("resume/b").string();
  first.stop_after = 3;
  const auto rb1 = run_inpformer_training(p, s, first);
  EXPECT_TRUE(rb1.package_profile.empty());
  ASSERT_TRUE(fs::exists(rb1.checkpoint));
  train::RunOptions second = first;
  second.stop_after = 0;
  second.resume = true;
  const auto rb2 = run_inpformer_training(p, s, second);
  EXPECT_EQ(rb2.start_step, 3);
  ASSERT_EQ(rb2.losses.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(rb2.losses[i], ra.losses[i + 3]) << "step " << i + 4;

  const StateDict a = load_state_dict(tmp("resume/a/weights.pth").string());
  const StateDict b = load_state_dict(tmp("resume/b/weights.pth").string());
  ASSERT_EQ(a.keys, b.keys);
  for (const auto& k : a.keys) EXPECT_EQ(advad::test::max_abs_diff(a.tensors.at(k), b.tensors.at(k)), 0.0) << k;

  // Resuming with other settings is refused with the reason (a fresh checkpoint
  // first: the finished run removed its own).
  ASSERT_TRUE(run_inpformer_training(p, s, first).package_profile.empty());
  TrainSettings other = s;
  other.seed = 2;
  train::RunOptions res = first;
  res.resume = true;
  res.stop_after = 0;
  expect_error<ModelError>([&] { run_inpformer_training(p, other, res); }, {"seed"});
  train::RunOptions none;
  none.output = tmp("resume/c").string();
  none.resume = true;
  expect_error<ModelError>([&] { run_inpformer_training(p, s, none); }, {"no checkpoint"});
}

// A short training on a generated category (regular texture, blobs planted in
// test images only) must localise the defects far better than chance.
TEST(TrainLoop, GeneratedCategoryBeatsRandomAuPro) {
  MiniDatasetSpec ms;
  ms.layout = DatasetLayout::MvtecAD;  // one lighting condition: the test is about localisation
  ms.category = "weave";
  ms.n_train = 12;
  ms.n_test_good = 3;
  ms.n_test_bad = 8;
  ms.width = ms.height = 128;
  ms.seed = 3;
  const std::string cat = write_mini_dataset(tmp("auPro").string(), ms);
  const auto ini = write_profile(tmp("auPro"), cat, 112, "iterations = 150\nwarmup = 15\nbatch = 8\ngrids = 2x2\nseed = 4\n");
  const Profile p = load_profile(ini, false);
  train::RunOptions o;
  o.output = tmp("auPro/pkg").string();
  const auto r = run_inpformer_training(p, parse_train_settings(p), o);
  const auto au = advad::test::aupro_vs_random_map(r.package_profile, cat, "weave");
  ASSERT_EQ(au.defective, 8);
  const double au_trained = au.trained;
  const double au_chance = au.chance;
  std::cout << "AU-PRO@0.3 trained " << au_trained << ", random map " << au_chance << "\n";
  EXPECT_NEAR(au_chance, 0.15, 0.05) << "a uniform random map has AU-PRO@0.3 about 0.3/2";
  EXPECT_GT(au_trained, au_chance + 0.25) << "training must localise the planted defects far better than chance";
}

// ---- `advad train` through the real executable ----

using advad::test::advad_cli;
using advad::test::CliRun;

TEST(TrainCli, TrainsWritesPackageAndRefusesBadInput) {
  ASSERT_NE(std::getenv("ADVAD_BIN"), nullptr) << "ADVAD_BIN is set by meson";
  const auto data = write_images(tmp("cli/imgs"), 4, 48, 48);
  const auto ini = write_profile(tmp("cli"), data, 28, "iterations = 4\n");
  const std::string out = tmp("cli/pkg").string();
  CliRun r = advad_cli("train '" + ini + "' --out '" + out + "' --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("package:"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(fs::path(out) / "weights.pth"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "profile.ini"));

  r = advad_cli("train '" + ini + "' --help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--resume", "--out", "--stop-after", "--grids", "--lighting"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;

  r = advad_cli("train '" + ini + "' --out '" + out + "' --batch 0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("batch"), std::string::npos) << r.out;

  r = advad_cli("train '" + ini + "' --out '" + out + "' --data '" + tmp("cli/none").string() + "'");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("cli/none"), std::string::npos) << r.out;

  r = advad_cli("train '" + ini + "' --out '" + tmp("cli/fresh").string() + "' --resume");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no checkpoint"), std::string::npos) << r.out;

  // --set works for every method (tools/train_cli.h): any [train] key, repeatable; unknown keys refused.
  r = advad_cli("train '" + ini + "' --out '" + tmp("cli/set").string() + "' --set iterations=2 --set batch=2 --stop-after 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0 -> 1 of 2"), std::string::npos) << r.out;  // stopped after 1 of the 2 iterations set
  r = advad_cli("train '" + ini + "' --out '" + out + "' --set iterashuns=2");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("iterashuns"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accepted"), std::string::npos) << r.out;
  r = advad_cli("train '" + ini + "' --out '" + out + "' --set batch=0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("batch"), std::string::npos) << r.out;
}

// The shipped MVTec AD 2 profiles carry the seed's training settings.
TEST(TrainSettingsTest, ShippedProfilesHoldTheSeedRecipe) {
  auto load = [](const std::string& cat) {
    return load_profile(advad::test::test_data("../../models/mvtec_ad2/" + cat + ".ini"), false);
  };
  struct Want {
    const char* cat;
    size_t grids;
    bool full, aug;
  };
  for (const Want& w : {Want{"can", 2, false, true}, Want{"fabric", 1, true, true}, Want{"rice", 2, true, true},
                        Want{"sheet_metal", 2, true, false}, Want{"wallplugs", 0, true, false},
                        Want{"walnuts", 1, true, false}}) {
    const Profile p = load(w.cat);
    const TrainSettings s = parse_train_settings(p);
    EXPECT_EQ(s.grids.size(), w.grids) << w.cat;
    EXPECT_EQ(s.full_image, w.full) << w.cat;
    EXPECT_EQ(s.lighting, w.aug) << w.cat;
    EXPECT_EQ(s.hflip, w.aug) << w.cat;
    EXPECT_EQ(s.vflip, w.aug) << w.cat;
    EXPECT_EQ(s.batch, 16) << w.cat;
    EXPECT_EQ(s.epochs, 10) << w.cat;
    EXPECT_NE(s.encoder_weights.find("dinov2_vitl14_reg4_pretrain.pth"), std::string::npos) << w.cat;
    // The DINOv2 file is not shipped: the error names it and says where it comes from.
    if (!fs::exists(s.encoder_weights))
      expect_error<ModelError>([&] { training_spec(p, s, nullptr); }, {"dinov2_vitl14_reg4_pretrain.pth", "download"});
  }
  const TrainSettings can = parse_train_settings(load("can"));
  EXPECT_EQ(can.grids[0].cols, 2);
  EXPECT_EQ(can.grids[0].rows, 1);
  EXPECT_EQ(can.grids[1].cols, 4);
  EXPECT_EQ(can.grids[1].rows, 2);
}

// The user's whole flow with the CLI: train on a generated category, predict
// the test split, evaluate with the official metrics.
TEST(TrainCli, TrainPredictEvalOnAGeneratedCategory) {
  MiniDatasetSpec ms;
  ms.layout = DatasetLayout::MvtecAD;
  ms.category = "weave";
  ms.n_train = 12;
  ms.n_test_good = 3;
  ms.n_test_bad = 6;
  ms.width = ms.height = 128;
  ms.seed = 8;
  const fs::path root = tmp("flow/data");
  const std::string cat = write_mini_dataset(root.string(), ms);
  const auto ini = write_profile(tmp("flow"), cat, 112, "iterations = 150\nwarmup = 15\nbatch = 8\ngrids = 2x2\n");
  const std::string pkg = tmp("flow/pkg").string(), pred = tmp("flow/pred").string(), js = tmp("flow/eval.json").string();
  CliRun r = advad_cli("train '" + ini + "' --out '" + pkg + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  r = advad_cli("predict '" + pkg + "/profile.ini' --dataset '" + root.string() + "' --category weave --split test --out '" +
                pred + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  r = advad_cli("eval --dataset '" + root.string() + "' --maps '" + pred + "' --split test --json '" + js + "' --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(js);
  const auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j["objects"].size(), 1u);
  const auto& o = j["objects"][0];
  EXPECT_EQ(o["images"], 9);
  EXPECT_EQ(o["anomalous_images"], 6);
  const double au = o["au_pro"]["0.3"].get<double>();
  std::cout << "advad train -> predict -> eval: AU-PRO@0.3 " << au << "\n";
  EXPECT_GT(au, 0.5) << "a random map gives about 0.15";
}
