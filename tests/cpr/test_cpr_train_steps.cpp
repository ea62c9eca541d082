// CPR training, the parts of a step: the contrastive loss against PyTorch 1.13
// (fixture written by tests/data/cprtrain/make_fixture.py) and finite
// differences, the pair/point sampler, the [train] settings (the shipped
// profiles' recipe included) and the augmentation. The training run is in
// test_cpr_train_run.cpp (the same test executable).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "cpr_train_helpers.h"
#include "tensor_checks.h"
#include "test_support.h"
#include "core/error.h"
#include "core/profile.h"
#include "cpr/train/augment.h"
#include "cpr/train/loss.h"
#include "cpr/train/points.h"
#include "cpr/train/settings.h"
#include "io/npy.h"

namespace fs = std::filesystem;
using namespace advad;
using namespace advad::cpr;
using namespace cprtrain;
using advad::test::expect_error;
using advad::test::max_abs_diff;

namespace {
torch::Tensor fx(const std::string& name) { return load_npy(advad::test::test_data("cprtrain/loss_" + name + ".npy")); }

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

// The path rule (the same as INP-Former's): [train] paths are relative to the
// profile's folder, the command line's (flags, --set) to the working directory,
// for every path key: data, backbone_weights, init, textures, defects.
TEST(CprTrainSettingsTest, ProfilePathsFromItsFolderCommandLinePathsFromWorkingDirectory) {
  advad::test::TempDir d("cpr_paths");
  const std::string ini = d.write("cat.ini",
                                  "[profile]\nmethod = cpr\nmodel = pkg\n\n[train]\ndata = imgs\n"
                                  "backbone_weights = w/densenet201.pth\ninit = w/init.pth\nsynth = cutpaste\n"
                                  "textures = tex\ndefects = lib\n");
  const fs::path dir = fs::absolute(d.path()).lexically_normal();
  CprTrainSettings s = settings_of(ini);
  EXPECT_EQ(s.data, (dir / "imgs").string());
  EXPECT_EQ(s.backbone_weights, (dir / "w/densenet201.pth").string());
  EXPECT_EQ(s.init, (dir / "w/init.pth").string());
  EXPECT_EQ(s.synth.textures, (dir / "tex").string());
  EXPECT_EQ(s.synth.defects, (dir / "lib").string());

  const fs::path cwd = fs::current_path();
  ASSERT_NE(cwd.lexically_normal(), dir);
  auto here = [&](const char* rel) { return (cwd / rel).lexically_normal().string(); };
  s = settings_of(ini, {{"data", "c/imgs"}, {"backbone_weights", "c/d.pth"}, {"init", "c/i.pth"},
                        {"textures", "c/tex"}, {"defects", "c/lib"}});
  EXPECT_EQ(s.data, here("c/imgs"));
  EXPECT_EQ(s.backbone_weights, here("c/d.pth"));
  EXPECT_EQ(s.init, here("c/i.pth"));
  EXPECT_EQ(s.synth.textures, here("c/tex"));
  EXPECT_EQ(s.synth.defects, here("c/lib"));
  // Absolute paths are kept (normalised) wherever they come from.
  s = settings_of(ini, {{"textures", "/abs/x/../tex"}});
  EXPECT_EQ(s.synth.textures, "/abs/tex");
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
