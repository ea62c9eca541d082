// CPR training: the contrastive loss against PyTorch 1.13 (fixture written by
// tests/data/cprtrain/make_fixture.py) and finite differences, the pair/point
// sampler, the [train] settings, the augmentation, and the training run (loss
// falls, checkpoint + resume equals an uninterrupted run, a short training on a
// generated category beats a random map's AU-PRO), plus `advad train` for cpr
// through the executable.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "../test_support.h"
#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "core/tile_layout.h"
#include "cpr/cpr_settings.h"
#include "cpr/cpr_train_loop.h"
#include "cpr/cpr_train_loss.h"
#include "cpr/cpr_train_points.h"
#include "cpr/cpr_train_settings.h"
#include "data/mini_dataset.h"
#include "io/npy.h"
#include "io/state_dict.h"
#include "metrics/object_eval.h"
#include "render/frame_scorer.h"

namespace fs = std::filesystem;
using namespace advad;
using namespace advad::cpr;
using advad::test::expect_error;
using advad::test::max_abs_diff;

namespace {

fs::path tmp(const std::string& name) { return advad::test::test_tmp_dir("cprtrain") / name; }
torch::Tensor fx(const std::string& name) { return load_npy(advad::test::test_data("cprtrain/loss_" + name + ".npy")); }

// Folder with n smooth RGB images of w x h (deterministic, each a little different).
std::string write_images(const fs::path& dir, int n, int w, int h) {
  fs::create_directories(dir);
  for (int i = 0; i < n; ++i) {
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int v = 110 + static_cast<int>(40 * std::sin(0.35 * x + 0.25 * y + 0.3 * i));
        img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(v), static_cast<uchar>(v + 8), static_cast<uchar>(v - 8));
      }
    cv::imwrite((dir / ("img_" + std::to_string(i) + ".png")).string(), img);
  }
  return dir.string();
}

// A tiny CPR training profile: random frozen trunk, 64 px input.
std::string write_profile(const fs::path& dir, const std::string& data, const std::string& extra_train,
                          const std::string& cpr = "k = 3\n") {
  fs::create_directories(dir);
  const std::string path = (dir / "train.ini").string();
  std::ofstream f(path);
  f << "[profile]\ncategory = tiny\nmethod = cpr\nmodel = pkg\n"
    << "[input]\nwidth = 64\nheight = 64\ncrop = 0\nresize = linear\n"
    << "[tiling]\nlevels = 1x1\n[threshold]\ndefault = 0.5\n"
    << "[cpr]\n" << cpr << "[train]\n"
    << test::ini_group_lines({{"data", data}, {"backbone_weights", "random"}, {"size", "64"}, {"batch", "4"},
                              {"k", "3"}, {"synth_size", "64"}, {"synth_per_image", "3"}, {"checkpoint_every", "0"}},
                             extra_train);
  return path;
}

CprTrainSettings settings_of(const std::string& ini, const std::map<std::string, std::string>& o = {}) {
  return parse_cpr_train_settings(load_profile(ini, false), o);
}

CprBatchPoints fixture_points() {
  CprBatchPoints p;
  p.pos_query = fx("pos_q"), p.pos_ref = fx("pos_r"), p.pos_weight = fx("pos_w");
  p.far_query = fx("far_q"), p.far_ref = fx("far_r"), p.far_weight = fx("far_w");
  p.anom_query = fx("anom_q"), p.anom_ref = fx("anom_r"), p.anom_weight = fx("anom_w");
  return p;
}

// Pixel of a [-1,1] coordinate (inverse of to_unit).
int pix(float u, int S) { return static_cast<int>(std::lround((u + 1.0) / 2.0 * (S - 1))); }

}  // namespace

// ---- loss ----

TEST(CprTrainLoss, MatchesPyTorchFixture) {
  std::array<torch::Tensor, 2> hq, hr, tq, tr;
  for (int s = 0; s < 2; ++s) {
    const std::string i = std::to_string(s);
    hq[s] = fx("heads_q" + i).requires_grad_(true);
    hr[s] = fx("heads_r" + i).requires_grad_(true);
    tq[s] = fx("taps_q" + i);
    tr[s] = fx("taps_r" + i);
  }
  const CprLoss l = cpr_contrastive_loss(hq, hr, tq, tr, fixture_points());
  EXPECT_NEAR(l.total.item<double>(), fx("out_total").item<double>(), 1e-5);
  EXPECT_NEAR(l.positive.item<double>(), fx("out_pos").item<double>(), 1e-5);
  EXPECT_NEAR(l.negative.item<double>(), fx("out_neg").item<double>(), 1e-5);
  EXPECT_GT(l.negative.item<double>(), 0.0);
  l.total.backward();
  for (int s = 0; s < 2; ++s) {
    const std::string i = std::to_string(s);
    EXPECT_LE(max_abs_diff(hq[s].grad(), fx("grad_heads_q" + i)), 1e-5) << "scale " << s;
    EXPECT_LE(max_abs_diff(hr[s].grad(), fx("grad_heads_r" + i)), 1e-5) << "scale " << s;
  }
}

TEST(CprTrainLoss, GradientMatchesFiniteDifferences) {
  torch::manual_seed(3);
  const auto opt = torch::TensorOptions().dtype(torch::kDouble);
  std::array<torch::Tensor, 2> hq, hr, tq, tr;
  for (int s = 0; s < 2; ++s) {
    const int64_t side = s == 0 ? 6 : 3;
    hq[s] = torch::randn({2, 5, side, side}, opt).requires_grad_(true);
    hr[s] = torch::randn({2, 5, side, side}, opt).requires_grad_(true);
    tq[s] = torch::randn({2, 4, side, side}, opt);
    tr[s] = torch::randn({2, 4, side, side}, opt);
  }
  CprBatchPoints p;
  auto pts = [&] { return torch::rand({2, 6, 2}, opt) * 1.8 - 0.9; };
  p.pos_query = pts(), p.pos_ref = pts(), p.far_query = pts(), p.far_ref = pts(), p.anom_query = pts(),
  p.anom_ref = pts();
  p.pos_weight = torch::ones({2, 6}, opt);
  p.far_weight = torch::ones({2, 6}, opt);
  p.anom_weight = torch::ones({2, 6}, opt);
  p.anom_weight.index_put_({0, torch::indexing::Slice(3)}, 0.0);
  auto f = [&] { return cpr_contrastive_loss(hq, hr, tq, tr, p).total; };
  const torch::Tensor l = f();
  l.backward();
  const double h = 1e-6;
  int checked = 0;
  for (int s = 0; s < 2; ++s)
    for (torch::Tensor* t : {&hq[s], &hr[s]}) {
      const torch::Tensor g = t->grad().clone();
      auto flat = t->detach().view({-1});  // shares storage with *t
      for (int64_t i = 0; i < flat.numel(); i += 7) {
        torch::NoGradGuard ng;
        const double v = flat[i].item<double>();
        flat[i] = v + h;
        const double up = f().item<double>();
        flat[i] = v - h;
        const double down = f().item<double>();
        flat[i] = v;
        const double num = (up - down) / (2 * h);
        EXPECT_NEAR(g.view({-1})[i].item<double>(), num, 1e-6 + 1e-4 * std::abs(num)) << "scale " << s << " index " << i;
        ++checked;
      }
    }
  EXPECT_GT(checked, 20);
}

TEST(CprTrainLoss, TexturePairsWithZeroFarWeightOnlyUseAnomalies) {
  // All far weights 0 (textures): the negative term is the anomaly term alone,
  // and no NaN comes from the 0/0 normalisation.
  CprBatchPoints p = fixture_points();
  p.far_weight.zero_();
  std::array<torch::Tensor, 2> hq{fx("heads_q0"), fx("heads_q1")}, hr{fx("heads_r0"), fx("heads_r1")};
  std::array<torch::Tensor, 2> tq{fx("taps_q0"), fx("taps_q1")}, tr{fx("taps_r0"), fx("taps_r1")};
  const CprLoss a = cpr_contrastive_loss(hq, hr, tq, tr, p);
  CprBatchPoints q = p;
  q.far_query = torch::zeros_like(p.far_query);  // far points no longer matter
  const CprLoss b = cpr_contrastive_loss(hq, hr, tq, tr, q);
  EXPECT_TRUE(std::isfinite(a.total.item<double>()));
  EXPECT_DOUBLE_EQ(a.negative.item<double>(), b.negative.item<double>());
}

// ---- points ----

TEST(CprTrainPoints, SetsRespectTheMaskDistanceAndPadding) {
  const int S = 48, n = 60;
  cv::Mat mask = cv::Mat::zeros(S, S, CV_8U);
  cv::circle(mask, {30, 20}, 5, cv::Scalar(255), cv::FILLED);  // ~80 anomalous pixels
  const int n_anom = cv::countNonZero(mask);
  PointSamplerOptions o;
  o.points = n;
  o.object = true;
  o.far_distance = far_negative_distance(3);
  EXPECT_NEAR(o.far_distance, 4 * std::sqrt(2.0), 1e-12);
  std::mt19937_64 rng(5);
  const PairPoints p = sample_pair_points(mask, cv::Mat(), o, rng);
  for (const PointSet* s : {&p.positive, &p.far, &p.anomaly}) {
    ASSERT_EQ(s->query.sizes(), (std::vector<int64_t>{n, 2}));
    ASSERT_EQ(s->weight.sizes(), (std::vector<int64_t>{n}));
  }
  auto valid = [](const PointSet& s) { return static_cast<int>(s.weight.sum().item<float>()); };
  EXPECT_EQ(valid(p.positive), n);
  EXPECT_EQ(valid(p.anomaly), std::min(n, n_anom));
  EXPECT_GT(valid(p.far), n / 2);
  for (const PointSet* s : {&p.positive, &p.far, &p.anomaly}) {
    const int v = valid(*s);
    for (int i = 0; i < n; ++i) {
      const float w = s->weight[i].item<float>();
      EXPECT_EQ(w, i < v ? 1.0f : 0.0f) << "valid entries first, then padding";
      if (i >= v) {
        EXPECT_EQ(s->query[i][0].item<float>(), -1.0f);
        EXPECT_EQ(s->ref[i][1].item<float>(), -1.0f);
      }
      for (int c = 0; c < 2; ++c) {
        EXPECT_GE(s->query[i][c].item<float>(), -1.0f);
        EXPECT_LE(s->query[i][c].item<float>(), 1.0f);
      }
    }
  }
  std::set<int> seen;
  for (int i = 0; i < valid(p.positive); ++i) {
    const int x = pix(p.positive.query[i][0].item<float>(), S), y = pix(p.positive.query[i][1].item<float>(), S);
    EXPECT_EQ(mask.at<uchar>(y, x), 0) << "positive on the defect at " << x << "," << y;
    EXPECT_TRUE(torch::equal(p.positive.query[i], p.positive.ref[i])) << "positive pairs share (x, y)";
    EXPECT_TRUE(seen.insert(y * S + x).second) << "positives are drawn without replacement";
  }
  for (int i = 0; i < valid(p.anomaly); ++i) {
    const int x = pix(p.anomaly.query[i][0].item<float>(), S), y = pix(p.anomaly.query[i][1].item<float>(), S);
    EXPECT_NE(mask.at<uchar>(y, x), 0) << "anomaly point off the defect at " << x << "," << y;
    EXPECT_TRUE(torch::equal(p.anomaly.query[i], p.anomaly.ref[i]));
  }
  for (int i = 0; i < valid(p.far); ++i) {
    const double dx = pix(p.far.query[i][0].item<float>(), S) - pix(p.far.ref[i][0].item<float>(), S);
    const double dy = pix(p.far.query[i][1].item<float>(), S) - pix(p.far.ref[i][1].item<float>(), S);
    EXPECT_GT(std::hypot(dx, dy), o.far_distance);
    const int rx = pix(p.far.ref[i][0].item<float>(), S), ry = pix(p.far.ref[i][1].item<float>(), S);
    EXPECT_EQ(mask.at<uchar>(ry, rx), 0) << "far references are normal pixels";
  }
  // The official coordinate convention: p / (S-1) * 2 - 1.
  EXPECT_FLOAT_EQ(to_unit(0, S), -1.0f);
  EXPECT_FLOAT_EQ(to_unit(S - 1, S), 1.0f);

  // Same generator state -> same points; textures: far weights all zero.
  std::mt19937_64 a(9), b(9);
  const PairPoints pa = sample_pair_points(mask, cv::Mat(), o, a);
  o.object = false;
  const PairPoints pb = sample_pair_points(mask, cv::Mat(), o, b);
  EXPECT_TRUE(torch::equal(pa.positive.query, pb.positive.query));
  EXPECT_TRUE(torch::equal(pa.far.query, pb.far.query));
  EXPECT_EQ(pb.far.weight.sum().item<float>(), 0.0f);
  EXPECT_GT(pa.far.weight.sum().item<float>(), 0.0f);

  // A normal sample (empty mask): no anomaly points at all.
  std::mt19937_64 c(1);
  const PairPoints pn = sample_pair_points(cv::Mat::zeros(S, S, CV_8U), cv::Mat(), o, c);
  EXPECT_EQ(pn.anomaly.weight.sum().item<float>(), 0.0f);
  EXPECT_EQ(pn.positive.weight.sum().item<float>(), static_cast<float>(n));
}

TEST(CprTrainPoints, PositivesFollowTheForegroundWeight) {
  const int S = 40;
  cv::Mat w(S, S, CV_32F, cv::Scalar(0.01f));
  w(cv::Rect(0, 0, S / 2, S)).setTo(1.0f);  // left half 100x more likely
  PointSamplerOptions o;
  o.points = 100;
  std::mt19937_64 rng(2);
  const PairPoints p = sample_pair_points(cv::Mat::zeros(S, S, CV_8U), w, o, rng);
  int left = 0;
  for (int i = 0; i < o.points; ++i) left += pix(p.positive.query[i][0].item<float>(), S) < S / 2;
  // 200 candidates drawn from 800 left-half pixels at weight 1 vs 800 at 0.01: nearly all on the left.
  EXPECT_GE(left, 95);

  // The sampling weight from an FEB map: smooth, sharpened into (0.0067, 0.9933), resized.
  cv::Mat feb = cv::Mat::zeros(20, 20, CV_32F);
  feb(cv::Rect(5, 5, 10, 10)).setTo(1.0f);
  const cv::Mat fw = foreground_sampling_weight(feb, 80);
  ASSERT_EQ(fw.size(), cv::Size(80, 80));
  double lo, hi;
  cv::minMaxLoc(fw, &lo, &hi);
  EXPECT_NEAR(lo, 1.0 / (1.0 + std::exp(5.0)), 1e-3);
  EXPECT_GT(hi, 0.95);
  EXPECT_LT(hi, 1.0 / (1.0 + std::exp(-5.0)) + 1e-6);
  EXPECT_GT(fw.at<float>(40, 40), 0.9f);
  EXPECT_LT(fw.at<float>(2, 2), 0.05f);
}

// ---- settings ----

TEST(CprTrainSettingsTest, DefaultsOverridesAndErrors) {
  const auto data = write_images(tmp("set/imgs"), 2, 32, 32);
  const auto ini = write_profile(tmp("set"), data, "");
  CprTrainSettings s = settings_of(ini);
  EXPECT_EQ(s.data, data);
  EXPECT_EQ(s.backbone_weights, "random");
  EXPECT_EQ(s.size, 64);
  EXPECT_EQ(s.steps, 2000);
  EXPECT_EQ(s.batch, 4);
  EXPECT_DOUBLE_EQ(s.lr, 1e-3);
  EXPECT_DOUBLE_EQ(s.weight_decay, 1e-2);
  EXPECT_EQ(s.seed, 66u);
  EXPECT_EQ(s.points, 300);
  EXPECT_TRUE(s.augment);
  EXPECT_EQ(s.synth.size, 64);
  EXPECT_EQ(s.checkpoint_every, 0);
  s = settings_of(ini, {{"steps", "7"}, {"augment", "false"}, {"anomaly_ratio", "0.5"}});
  EXPECT_EQ(s.steps, 7);
  EXPECT_FALSE(s.augment);
  EXPECT_DOUBLE_EQ(s.synth.anomaly_ratio, 0.5);
  expect_error<ProfileError>([&] { settings_of(ini, {{"batch", "zero"}}); }, {"--batch", "zero"});
  expect_error<ProfileError>([&] { settings_of(ini, {{"size", "60"}}); }, {"size", "60", "multiple of 8"});
  expect_error<ProfileError>([&] { settings_of(ini, {{"lr", "-1"}}); }, {"lr", "-1"});
  expect_error<ProfileError>([&] { settings_of(ini, {{"synth", "magic"}}); }, {"synth", "magic"});
  const auto bad = write_profile(tmp("set_bad"), data, "lerning_rate = 1\n");
  expect_error<ProfileError>([&] { settings_of(bad); }, {"lerning_rate", "[train]", "accepted keys"});
}

// ---- augmentation ----

TEST(CprTrainAugment, DeterministicAndAboutThirtyPercent) {
  cv::Mat base(24, 24, CV_8UC3);
  cv::randu(base, 30, 220);
  int changed = 0, noisy = 0;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    cv::Mat a = base.clone(), b = base.clone();
    std::mt19937_64 ra = cpr_train_rng(1, 2, static_cast<uint64_t>(i)), rb = cpr_train_rng(1, 2, static_cast<uint64_t>(i));
    cpr_augment(a, ra);
    cpr_augment(b, rb);
    ASSERT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
    if (cv::norm(a, base, cv::NORM_INF) > 0) ++changed;
    // Salt or pepper: a pixel set to (255,255,255) or (0,0,0), which base never holds.
    cv::Mat white, black;
    cv::inRange(a, cv::Scalar(255, 255, 255), cv::Scalar(255, 255, 255), white);
    cv::inRange(a, cv::Scalar(0, 0, 0), cv::Scalar(0, 0, 0), black);
    if (cv::countNonZero(white) + cv::countNonZero(black) > 0) ++noisy;
  }
  // P(changed) = 1 - 0.7^2 = 0.51 (a lightness factor near 1 may leave an image unchanged);
  // P(noise) = 0.3 (an SNR near 1 may give no noisy pixel on 576 pixels).
  EXPECT_GT(changed, 110);
  EXPECT_LT(changed, 190);
  EXPECT_GT(noisy, 50);
  EXPECT_LT(noisy, 120);
}

// ---- the training run ----

TEST(CprTrainLoop, LossGoesDownAndPackageLoads) {
  const auto data = write_images(tmp("loop/imgs"), 6, 64, 64);
  const auto ini = write_profile(tmp("loop"), data, "steps = 40\nbatch = 6\npoints = 100\n");
  const Profile p = load_profile(ini, false);
  CprTrainOptions o;
  o.output = tmp("loop/pkg").string();
  const CprTrainResult r = run_cpr_training(p, parse_cpr_train_settings(p), o);
  ASSERT_EQ(r.losses.size(), 40u);
  EXPECT_EQ(r.images, 6u);
  EXPECT_EQ(r.synthetic, 18u);
  EXPECT_GT(r.anomalous, 0u);
  auto mean = [&](size_t from, size_t count) {
    return std::accumulate(r.losses.begin() + static_cast<long>(from), r.losses.begin() + static_cast<long>(from + count),
                           0.0) / static_cast<double>(count);
  };
  const double first = mean(0, 5), last = mean(35, 5);
  std::cout << "loss first 5 " << first << ", last 5 " << last << ", " << r.seconds_per_step << " s/step\n";
  EXPECT_LT(last, 0.7 * first) << "first " << first << " last " << last;
  ASSERT_FALSE(r.package_profile.empty());
  EXPECT_TRUE(r.checkpoint.empty()) << "the checkpoint is removed once the package exists";

  const Profile pkg = load_profile(r.package_profile);
  EXPECT_EQ(pkg.method, Method::Cpr);
  ModelOptions mo;
  mo.device = "cpu";
  FrameScorer scorer(std::make_shared<Profile>(pkg), create_model(pkg, mo), 0);
  cv::Mat img = cv::imread(data + "/img_0.png");
  cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  const AnomalyMap am = scorer.score(img, PixelFormat::RGB, make_tile_layout(img.cols, img.rows, pkg.tiling));
  EXPECT_EQ(am.map.size(), img.size());
  EXPECT_TRUE(std::isfinite(am.score));
}

TEST(CprTrainLoop, ResumeEqualsUninterrupted) {
  const auto data = write_images(tmp("resume/imgs"), 4, 48, 48);
  const auto ini = write_profile(tmp("resume"), data, "steps = 6\npoints = 50\nbatch = 3\n");
  const Profile p = load_profile(ini, false);
  const CprTrainSettings s = parse_cpr_train_settings(p);

  CprTrainOptions straight;
  straight.output = tmp("resume/a").string();
  const auto ra = run_cpr_training(p, s, straight);

  CprTrainOptions first;
  first.output = tmp("resume/b").string();
  first.stop_after = 2;
  const auto rb1 = run_cpr_training(p, s, first);
  EXPECT_TRUE(rb1.package_profile.empty());
  ASSERT_TRUE(fs::exists(rb1.checkpoint));
  CprTrainOptions second = first;
  second.stop_after = 0;
  second.resume = true;
  const auto rb2 = run_cpr_training(p, s, second);
  EXPECT_EQ(rb2.start_step, 2);
  ASSERT_EQ(rb2.losses.size(), 4u);
  for (size_t i = 0; i < 2; ++i) EXPECT_DOUBLE_EQ(rb1.losses[i], ra.losses[i]) << "step " << i + 1;
  for (size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(rb2.losses[i], ra.losses[i + 2]) << "step " << i + 3;

  const StateDict a = load_state_dict(tmp("resume/a/weights.pth").string());
  const StateDict b = load_state_dict(tmp("resume/b/weights.pth").string());
  ASSERT_EQ(a.keys, b.keys);
  int heads = 0;
  for (const auto& k : a.keys) {
    EXPECT_EQ(max_abs_diff(a.tensors.at(k), b.tensors.at(k)), 0.0) << k;
    heads += k.rfind("lrb.", 0) == 0;
  }
  EXPECT_EQ(heads, 78);

  // Resuming with other settings is refused with the reason; no checkpoint: refused too.
  ASSERT_TRUE(run_cpr_training(p, s, first).package_profile.empty());
  CprTrainSettings other = s;
  other.seed = 2;
  CprTrainOptions res = first;
  res.resume = true;
  res.stop_after = 0;
  expect_error<ModelError>([&] { run_cpr_training(p, other, res); }, {"seed"});
  CprTrainOptions none;
  none.output = tmp("resume/c").string();
  none.resume = true;
  expect_error<ModelError>([&] { run_cpr_training(p, s, none); }, {"no checkpoint"});
}

// Object mode ([cpr] foreground = on): the FEB is fitted on a centred object,
// positives follow its sampling weight, far negatives count, and the package
// carries the foreground branch.
TEST(CprTrainLoop, ObjectModeFitsTheForeground) {
  const fs::path dir = tmp("object/imgs");
  fs::create_directories(dir);
  cv::RNG rng(11);
  for (int i = 0; i < 5; ++i) {
    cv::Mat img(64, 64, CV_8UC3);
    rng.fill(img, cv::RNG::UNIFORM, 10, 40);  // dark noisy background
    cv::Mat disk = cv::Mat::zeros(64, 64, CV_8U);
    cv::circle(disk, {32 + (i % 3) - 1, 32 - (i % 2)}, 17, cv::Scalar(255), cv::FILLED);
    cv::Mat bright(64, 64, CV_8UC3);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const int v = 170 + static_cast<int>(40 * std::sin(0.6 * x) * std::cos(0.5 * y));
        bright.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(v - 30), static_cast<uchar>(v), static_cast<uchar>(v - 60));
      }
    bright.copyTo(img, disk);
    cv::imwrite((dir / ("obj_" + std::to_string(i) + ".png")).string(), img);
  }
  const auto ini = write_profile(tmp("object"), dir.string(), "steps = 4\npoints = 60\nbatch = 2\n",
                                 "k = 3\nforeground = on\n");
  const Profile p = load_profile(ini, false);
  CprTrainOptions o;
  o.output = tmp("object/pkg").string();
  const auto r = run_cpr_training(p, parse_cpr_train_settings(p), o);
  EXPECT_TRUE(r.foreground) << r.foreground_note;
  ASSERT_EQ(r.losses.size(), 4u);
  for (double l : r.losses) EXPECT_TRUE(std::isfinite(l));
  const Profile pkg = load_profile(r.package_profile);
  EXPECT_TRUE(parse_cpr_settings(pkg).foreground);
}

TEST(CprTrainLoop, InputErrorsNameTheProblem) {
  const auto one = write_images(tmp("err/one"), 1, 32, 32);
  const auto ini = write_profile(tmp("err"), one, "steps = 1\n");
  const Profile p = load_profile(ini, false);
  CprTrainOptions o;
  o.output = tmp("err/pkg").string();
  expect_error<InputError>([&] { run_cpr_training(p, parse_cpr_train_settings(p), o); }, {"at least 2"});
  fs::create_directories(tmp("err/empty"));
  expect_error<InputError>(
      [&] { run_cpr_training(p, parse_cpr_train_settings(p, {{"data", tmp("err/empty").string()}}), o); },
      {"err/empty", "no training images"});
  const auto two = write_images(tmp("err/two"), 2, 32, 32);
  expect_error<ModelError>(
      [&] {
        run_cpr_training(p,
                         parse_cpr_train_settings(p, {{"data", two},
                                                      {"backbone_weights", tmp("err/densenet_missing.pth").string()}}),
                         o);
      },
      {"densenet_missing.pth"});
}

// A short training on a generated category (regular texture, defects planted in
// the test images only) must localise the defects clearly better than chance.
// A 1-step run (heads barely trained) is scored too, for the record.
TEST(CprTrainLoop, GeneratedCategoryBeatsRandomAuPro) {
  MiniDatasetSpec ms;
  ms.layout = DatasetLayout::MvtecAD;
  ms.category = "weave";
  ms.n_train = 10;
  ms.n_test_good = 3;
  ms.n_test_bad = 8;
  ms.width = ms.height = 96;
  ms.seed = 3;
  const std::string cat = write_mini_dataset(tmp("aupro").string(), ms);
  const auto ini = write_profile(tmp("aupro"), cat, "steps = 80\nbatch = 8\npoints = 150\nsynth_per_image = 6\nseed = 4\n");
  const Profile p = load_profile(ini, false);

  // AU-PRO@0.3 of a package over the test images, and of a uniform random map.
  auto evaluate = [&](const std::string& package_profile, double* random_au) {
    const Profile pkg = load_profile(package_profile);
    ModelOptions mo;
    mo.device = "cpu";
    FrameScorer scorer(std::make_shared<Profile>(pkg), create_model(pkg, mo), 0);
    ObjectEvaluator trained("weave", "test"), chance("weave", "test");
    cv::RNG rng(5);
    int bad = 0;
    for (const std::string kind : {"good", "blob", "scratch"}) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(fs::path(cat) / "test" / kind)) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        cv::Mat img = cv::imread(f.string());
        cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
        const AnomalyMap am = scorer.score(img, PixelFormat::RGB, make_tile_layout(img.cols, img.rows, pkg.tiling));
        cv::Mat gt;
        if (kind != "good") {
          gt = cv::imread((fs::path(cat) / "ground_truth" / kind / (f.stem().string() + "_mask.png")).string(),
                          cv::IMREAD_GRAYSCALE);
          EXPECT_FALSE(gt.empty()) << f;
          ++bad;
        }
        cv::Mat noise(am.map.size(), CV_32F);
        rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
        trained.add(am.map, gt, cv::Mat(), kind + "/" + f.filename().string());
        chance.add(noise, gt, cv::Mat(), kind + "/" + f.filename().string());
      }
    }
    EXPECT_EQ(bad, 8);
    if (random_au) *random_au = chance.finish().pixel.au_pro_at(0.3);
    return trained.finish().pixel.au_pro_at(0.3);
  };

  CprTrainOptions o;
  o.output = tmp("aupro/pkg").string();
  const auto r = run_cpr_training(p, parse_cpr_train_settings(p), o);
  double au_chance = 0;
  const double au_trained = evaluate(r.package_profile, &au_chance);
  CprTrainOptions o1;
  o1.output = tmp("aupro/pkg1").string();
  const auto r1 = run_cpr_training(p, parse_cpr_train_settings(p, {{"steps", "1"}}), o1);
  const double au_one_step = evaluate(r1.package_profile, nullptr);

  const double first = std::accumulate(r.losses.begin(), r.losses.begin() + 5, 0.0) / 5;
  const double last = std::accumulate(r.losses.end() - 5, r.losses.end(), 0.0) / 5;
  std::cout << "AU-PRO@0.3 trained (80 steps) " << au_trained << ", after 1 step " << au_one_step << ", random map "
            << au_chance << "; loss " << first << " -> " << last << ", " << r.seconds_per_step << " s/step\n";
  EXPECT_NEAR(au_chance, 0.15, 0.05) << "a uniform random map has AU-PRO@0.3 about 0.3/2";
  EXPECT_GT(au_trained, au_chance + 0.25) << "training must localise the planted defects far better than chance";
  EXPECT_LT(last, 0.8 * first) << "the loss must fall on this category too";
  // Retrieval + local matching alone already localise these defects well (random
  // trunk, barely trained heads: ~0.94); the contrastive training must still add to it.
  EXPECT_GT(au_trained, au_one_step + 0.01);
}

// ---- `advad train` (method cpr) through the real executable ----

using advad::test::advad_cli;
using advad::test::CliRun;

TEST(CprTrainCli, TrainsWritesPackageAndRefusesBadInput) {
  ASSERT_NE(std::getenv("ADVAD_BIN"), nullptr) << "ADVAD_BIN is set by meson";
  const auto data = write_images(tmp("cli/imgs"), 3, 48, 48);
  const auto ini = write_profile(tmp("cli"), data, "steps = 3\npoints = 40\nbatch = 2\n");
  const std::string out = tmp("cli/pkg").string();
  CliRun r = advad_cli("train '" + ini + "' --out '" + out + "' --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("package:"), std::string::npos) << r.out;
  for (const char* f : {"weights.pth", "bank.bin", "profile.ini"}) EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;

  r = advad_cli("train '" + ini + "' --help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--resume", "--out", "--steps", "--set", "--device", "--threads", "--synth-size",
                           "--backbone-weights"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;

  r = advad_cli("train '" + ini + "' --out '" + out + "' --set lerning_rate=1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("lerning_rate"), std::string::npos) << r.out;

  r = advad_cli("train '" + ini + "' --out '" + out + "' --steps 0");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("steps"), std::string::npos) << r.out;

  fs::create_directories(tmp("cli/none"));
  r = advad_cli("train '" + ini + "' --out '" + out + "' --set data=" + tmp("cli/none").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("cli/none"), std::string::npos) << r.out;

  r = advad_cli("train '" + ini + "' --out '" + out + "' --backbone-weights /nonexistent/densenet201-x.pth");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("densenet201-x.pth"), std::string::npos) << r.out;

  r = advad_cli("train '" + ini + "' --out '" + tmp("cli/fresh").string() + "' --resume");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no checkpoint"), std::string::npos) << r.out;
}

// The shipped CPR profiles carry the seed's training recipe (cut-paste libraries and scales).
TEST(CprTrainSettingsTest, ShippedProfilesHoldTheSeedRecipe) {
  struct Want {
    const char* cat;
    long steps;
    uint64_t seed;
    int per_image;
    size_t libraries;
  };
  for (const Want& w : {Want{"fruit_jelly", 2000, 42, 25, 5}, Want{"vial", 1300, 66, 6, 2}}) {
    SCOPED_TRACE(w.cat);
    const Profile p = load_profile(advad::test::test_data(std::string("../../models/mvtec_ad2/") + w.cat + ".ini"), false);
    const CprTrainSettings s = parse_cpr_train_settings(p);
    EXPECT_EQ(s.steps, w.steps);
    EXPECT_EQ(s.seed, w.seed);
    EXPECT_EQ(s.batch, 8);
    EXPECT_EQ(s.size, 320);
    EXPECT_DOUBLE_EQ(s.lr, 1e-3);
    EXPECT_DOUBLE_EQ(s.weight_decay, 1e-2);
    EXPECT_EQ(s.synth_per_image, w.per_image);
    EXPECT_EQ(s.synth.mode, SynthMode::CutPaste);
    EXPECT_EQ(s.synth.size, 640);
    EXPECT_TRUE(s.synth.object) << "[cpr] foreground = on";
    EXPECT_EQ(s.synth.defect_scales.size(), w.libraries);
    EXPECT_NE(s.backbone_weights.find("densenet201"), std::string::npos);
  }
  const Profile fj = load_profile(advad::test::test_data("../../models/mvtec_ad2/fruit_jelly.ini"), false);
  const auto hair = parse_cpr_train_settings(fj).synth.defect_scales.at("hair");
  EXPECT_DOUBLE_EQ(hair.first, 0.05);
  EXPECT_DOUBLE_EQ(hair.second, 0.2);
}

// Object category end to end: a textured disk on a dark noisy background (its
// position jitters), defects (dark or tinted spots) planted on the disk of test
// images only; [cpr] foreground = on, so the FEB is fitted and weights the map.
namespace {
cv::Mat object_image(int i, cv::RNG& rng, cv::Mat* defect_mask) {
  cv::Mat img(64, 64, CV_8UC3);
  rng.fill(img, cv::RNG::UNIFORM, 10, 40);
  cv::Mat disk = cv::Mat::zeros(64, 64, CV_8U);
  const cv::Point c{32 + (i % 3) - 1, 32 - (i % 2)};
  cv::circle(disk, c, 18, cv::Scalar(255), cv::FILLED);
  cv::Mat bright(64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const int v = 170 + static_cast<int>(40 * std::sin(0.6 * x) * std::cos(0.5 * y));
      bright.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(v - 30), static_cast<uchar>(v), static_cast<uchar>(v - 60));
    }
  bright.copyTo(img, disk);
  if (defect_mask) {
    cv::Mat spot = cv::Mat::zeros(64, 64, CV_8U);
    const cv::Point p{c.x + rng.uniform(-9, 10), c.y + rng.uniform(-9, 10)};
    cv::ellipse(spot, p, {rng.uniform(3, 6), rng.uniform(3, 6)}, rng.uniform(0, 180), 0, 360, cv::Scalar(255), cv::FILLED);
    cv::bitwise_and(spot, disk, spot);
    const cv::Scalar colour = rng.uniform(0, 2) ? cv::Scalar(60, 40, 30) : cv::Scalar(40, 200, 230);
    img.setTo(colour, spot);
    *defect_mask = spot;
  }
  return img;
}
}  // namespace

TEST(CprTrainLoop, GeneratedObjectCategoryBeatsRandomAuPro) {
  const fs::path root = tmp("objaupro");
  fs::create_directories(root / "train");
  cv::RNG rng(21);
  for (int i = 0; i < 10; ++i)
    cv::imwrite((root / "train" / ("obj_" + std::to_string(i) + ".png")).string(), object_image(i, rng, nullptr));
  const auto ini = write_profile(root, (root / "train").string(),
                                 "steps = 60\nbatch = 8\npoints = 150\nsynth_per_image = 6\nseed = 4\n",
                                 "k = 3\nforeground = on\n");
  const Profile p = load_profile(ini, false);
  CprTrainOptions o;
  o.output = (root / "pkg").string();
  const auto r = run_cpr_training(p, parse_cpr_train_settings(p), o);
  ASSERT_TRUE(r.foreground) << r.foreground_note;
  const Profile pkg = load_profile(r.package_profile);
  ASSERT_TRUE(parse_cpr_settings(pkg).foreground);
  ModelOptions mo;
  mo.device = "cpu";
  FrameScorer scorer(std::make_shared<Profile>(pkg), create_model(pkg, mo), 0);
  ObjectEvaluator trained("disk", "test"), chance("disk", "test");
  cv::RNG noise_rng(5);
  for (int i = 0; i < 10; ++i) {
    cv::Mat gt;
    cv::Mat bgr = object_image(100 + i, rng, i < 7 ? &gt : nullptr), img;
    cv::cvtColor(bgr, img, cv::COLOR_BGR2RGB);
    const AnomalyMap am = scorer.score(img, PixelFormat::RGB, make_tile_layout(img.cols, img.rows, pkg.tiling));
    cv::Mat noise(am.map.size(), CV_32F);
    noise_rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
    trained.add(am.map, gt, cv::Mat(), std::to_string(i));
    chance.add(noise, gt, cv::Mat(), std::to_string(i));
  }
  const double au = trained.finish().pixel.au_pro_at(0.3), au_random = chance.finish().pixel.au_pro_at(0.3);
  std::cout << "object category (foreground on): AU-PRO@0.3 trained " << au << ", random map " << au_random << "\n";
  EXPECT_GT(au, au_random + 0.25);
}
