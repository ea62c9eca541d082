// The CPR foreground fit (fit_feb) on synthetic denseblock1-like features and
// the package writer (write_cpr_package) on a few generated images:
//   - a central blob with its own mean vector is found, its map is ~1 in the
//     centre and ~0 at the border, and the fit is deterministic for a seed;
//   - the LDA direction equals the closed form Sigma^-1 (mu1 - mu0) computed
//     here independently, the bias is -1/2 (mu1 + mu0).w and the range is
//     the exact 1 % order statistics of all decision values;
//   - rank-deficient features (constant / duplicated channels) stay finite;
//   - no foreground -> found = false with a reason; bad tensors -> InputError;
//   - write_cpr_package writes a package that loads through create_model with
//     a foreground branch; an empty image folder -> InputError.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "test_support.h"
#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "cpr/bank/bank.h"
#include "cpr/bank/build.h"
#include "cpr/bank/feb_fit.h"
#include "cpr/model/network.h"
#include "cpr/bank/package.h"
#include "cpr/model/settings.h"
#include "cpr_fixture.h"
#include "engine/model_factory.h"

using namespace advad;
using namespace advad::cpr;
namespace fs = std::filesystem;

namespace {

// Grid geometry of fit_feb for an h x h grid.
int64_t band_of(int64_t h) { return std::max<int64_t>(1, static_cast<int64_t>(3.0 / 80.0 * static_cast<double>(h))); }
int64_t centre_lo(int64_t h) { return static_cast<int64_t>(h / 2.0 - h / 5.0); }
int64_t centre_hi(int64_t h) { return static_cast<int64_t>(h / 2.0 + h / 5.0); }
bool in_band(int64_t y, int64_t x, int64_t h) {
  const int64_t b = band_of(h);
  return y < b || y >= h - b || x < b || x >= h - b;
}
bool in_centre(int64_t y, int64_t x, int64_t h) {
  return y >= centre_lo(h) && y < centre_hi(h) && x >= centre_lo(h) && x < centre_hi(h);
}

// [N,C,h,h]: background vector mu_bg + noise everywhere, mu_fg + noise in the
// centre square (the "object"); noise = mix (C x C) applied to N(0,1).
torch::Tensor blob_features(int64_t N, int64_t C, int64_t h, const torch::Tensor& mu_bg, const torch::Tensor& mu_fg,
                            const torch::Tensor& mix_bg, const torch::Tensor& mix_fg, uint64_t seed) {
  torch::manual_seed(seed);
  auto out = torch::empty({N, C, h, h}, torch::kFloat);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < h; ++x) {
        const bool fg = in_centre(y, x, h);
        auto z = torch::randn({C}, torch::kDouble);
        out.index_put_({i, torch::indexing::Slice(), y, x},
                       (fg ? mu_fg + mix_fg.matmul(z) : mu_bg + mix_bg.matmul(z)).to(torch::kFloat));
      }
  return out;
}

torch::Tensor fg_map(const torch::Tensor& tap0, const FebFit& f) { return apply_feb(tap0, f.weight, f.bias); }

// max over band cells / min over centre cells of maps [N,h,h].
std::pair<float, float> band_max_centre_min(const torch::Tensor& maps) {
  const int64_t h = maps.size(1);
  float band_max = -1e9f, centre_min = 1e9f;
  auto acc = maps.accessor<float, 3>();
  for (int64_t i = 0; i < maps.size(0); ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < h; ++x) {
        if (in_band(y, x, h)) band_max = std::max(band_max, acc[i][y][x]);
        if (in_centre(y, x, h)) centre_min = std::min(centre_min, acc[i][y][x]);
      }
  return {band_max, centre_min};
}

torch::Tensor unit(const torch::Tensor& v) { return v / v.norm(); }

}  // namespace

TEST(CprFebFit, CentralBlobIsForegroundAndDeterministic) {
  const int64_t C = 8, h = 32;
  torch::manual_seed(1);
  const auto mu_bg = torch::randn({C}, torch::kDouble);
  const auto mu_fg = mu_bg + 3.0 * torch::randn({C}, torch::kDouble);
  const auto mix = 0.1 * torch::eye(C, torch::kDouble);
  const auto tap0 = blob_features(4, C, h, mu_bg, mu_fg, mix, mix, 2);

  const FebFit f = fit_feb(tap0, 7);
  ASSERT_TRUE(f.found) << f.reason;
  EXPECT_TRUE(f.reason.empty());
  EXPECT_EQ(f.weight.sizes(), (std::vector<int64_t>{1, C, 1, 1}));
  EXPECT_EQ(f.weight.scalar_type(), torch::kFloat);
  EXPECT_EQ(f.bias.sizes(), (std::vector<int64_t>{1}));
  // 4 images x (32^2 - 30^2) band cells vs 4 x 13^2 centre cells -> min = 496.
  EXPECT_EQ(f.background_samples, 4 * (32 * 32 - 30 * 30));
  EXPECT_EQ(f.foreground_samples, f.background_samples);
  EXPECT_LT(f.decision_min, f.decision_max);

  const auto maps = fg_map(tap0, f);
  const auto [band_max, centre_min] = band_max_centre_min(maps);
  EXPECT_GT(centre_min, 0.9f);
  EXPECT_LT(band_max, 0.1f);

  // Same seed -> bit-identical; another seed -> the same answer in substance.
  const FebFit g = fit_feb(tap0, 7);
  ASSERT_TRUE(g.found);
  EXPECT_TRUE(torch::equal(f.weight, g.weight));
  EXPECT_TRUE(torch::equal(f.bias, g.bias));
  EXPECT_EQ(f.decision_min, g.decision_min);
  EXPECT_EQ(f.decision_max, g.decision_max);
  const FebFit o = fit_feb(tap0, 8);
  ASSERT_TRUE(o.found) << o.reason;
  const auto [band_max_o, centre_min_o] = band_max_centre_min(fg_map(tap0, o));
  EXPECT_GT(centre_min_o, 0.9f);
  EXPECT_LT(band_max_o, 0.1f);
}

TEST(CprFebFit, LdaEqualsClosedFormAndRangeIsTheExactOrderStatistic) {
  // 3 channels, 16 x 16 grid: band = 1 cell (60 per image), centre 4..11
  // (49 per image). 11 band cells per image are object-like, so exactly 49
  // band cells per image are background: both classes hold 49 N samples
  // (< 15000) and the balanced subset is every sample -> the expected w can
  // be computed here from the same cells.
  const int64_t N = 6, C = 3, h = 16;
  auto mu_bg = torch::tensor({1.0, -2.0, 0.5}, torch::kDouble);
  auto mu_fg = torch::tensor({9.0, 6.0, -7.0}, torch::kDouble);
  auto mix_bg = torch::tensor({{1.0, 0.0, 0.0}, {0.6, 0.8, 0.0}, {-0.3, 0.2, 0.5}}, torch::kDouble);
  auto mix_fg = torch::tensor({{0.7, 0.0, 0.0}, {-0.2, 1.1, 0.0}, {0.4, 0.3, 0.9}}, torch::kDouble);
  auto tap0 = blob_features(N, C, h, mu_bg, mu_fg, mix_bg, mix_fg, 3);
  torch::manual_seed(4);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t x = 0; x < 11; ++x)  // first 11 cells of the top row: object-like
      tap0.index_put_({i, torch::indexing::Slice(), 0, x},
                      (mu_fg + mix_fg.matmul(torch::randn({C}, torch::kDouble))).to(torch::kFloat));

  const FebFit f = fit_feb(tap0, 66);
  ASSERT_TRUE(f.found) << f.reason;
  ASSERT_EQ(f.background_samples, 49 * N);
  ASSERT_EQ(f.foreground_samples, 49 * N);

  // Closed form on the same samples.
  std::vector<torch::Tensor> bg, fg;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < h; ++x) {
        auto v = tap0.index({i, torch::indexing::Slice(), y, x}).to(torch::kDouble);
        if (in_band(y, x, h) && !(y == 0 && x < 11)) bg.push_back(v);
        if (in_centre(y, x, h)) fg.push_back(v);
      }
  ASSERT_EQ(static_cast<int64_t>(bg.size()), 49 * N);
  const auto x0 = torch::stack(bg), x1 = torch::stack(fg);
  const auto m0 = x0.mean(0), m1 = x1.mean(0);
  const auto c0 = x0 - m0, c1 = x1 - m1;
  const auto sigma = (c0.t().matmul(c0) + c1.t().matmul(c1)) / static_cast<double>(x0.size(0) + x1.size(0) - 2);
  const auto w_ref = torch::linalg_solve(sigma, (m1 - m0).unsqueeze(1), true).squeeze(1);
  const double b_ref = -0.5 * (m1 + m0).dot(w_ref).item<double>();

  // The fitted weight is w / (max - min): the same direction up to a positive scale.
  const double range = f.decision_max - f.decision_min;
  const auto w_fit = f.weight.flatten().to(torch::kDouble) * range;
  EXPECT_LT(test::max_abs_diff(unit(w_fit), unit(w_ref)), 1e-6) << w_fit << w_ref;
  const double scale = (w_fit.norm() / w_ref.norm()).item<double>();
  const double b_fit = f.bias.item<double>() * range + f.decision_min;
  EXPECT_NEAR(b_fit, scale * b_ref, 1e-5 * std::abs(scale * b_ref) + 1e-5 * range);

  // min / max: the exact k-th smallest / largest decision value, k = int(0.01 n).
  const auto d = (tap0.permute({0, 2, 3, 1}).reshape({-1, C}).to(torch::kDouble).matmul(w_ref) + b_ref) * scale;
  const auto sorted = std::get<0>(d.sort());
  const int64_t n = d.numel(), kth = n / 100;
  EXPECT_NEAR(f.decision_min, sorted[kth - 1].item<double>(), 1e-5 * range);
  EXPECT_NEAR(f.decision_max, sorted[n - kth].item<double>(), 1e-5 * range);
}

TEST(CprFebFit, RankDeficientFeaturesStayFinite) {
  // 3 informative channels + a constant one + two duplicates.
  const int64_t N = 3, h = 20;
  torch::manual_seed(5);
  const auto mu_bg = torch::randn({3}, torch::kDouble);
  const auto mu_fg = mu_bg + torch::tensor({2.0, -2.0, 1.5}, torch::kDouble);
  const auto mix = 0.04 * torch::eye(3, torch::kDouble);
  const auto base = blob_features(N, 3, h, mu_bg, mu_fg, mix, mix, 6);
  const auto tap0 = torch::cat({base, torch::full({N, 1, h, h}, 0.5f), base.narrow(1, 0, 2)}, 1).contiguous();
  ASSERT_EQ(tap0.size(1), 6);

  const FebFit f = fit_feb(tap0, 66);
  ASSERT_TRUE(f.found) << f.reason;
  EXPECT_TRUE(torch::isfinite(f.weight).all().item<bool>()) << f.weight;
  EXPECT_TRUE(std::isfinite(f.bias.item<float>()));
  const auto w = f.weight.flatten();
  const double wmax = w.abs().max().item<double>();
  EXPECT_LT(std::abs(w[3].item<double>()), 1e-6 * wmax);           // the constant channel carries nothing
  EXPECT_NEAR(w[0].item<double>(), w[4].item<double>(), 1e-4 * wmax);  // duplicates share the weight
  EXPECT_NEAR(w[1].item<double>(), w[5].item<double>(), 1e-4 * wmax);
  const auto maps = fg_map(tap0, f);
  EXPECT_TRUE(torch::isfinite(maps).all().item<bool>());
  const auto [band_max, centre_min] = band_max_centre_min(maps);
  EXPECT_GT(centre_min, 0.9f);
  EXPECT_LT(band_max, 0.1f);

  // A channel constant within each class but different between them.
  auto split = tap0.clone();
  split.narrow(1, 3, 1).fill_(0.0f);
  for (int64_t y = centre_lo(h); y < centre_hi(h); ++y)
    split.index_put_({torch::indexing::Slice(), 3, y, torch::indexing::Slice(centre_lo(h), centre_hi(h))}, 1.0f);
  const FebFit s = fit_feb(split, 66);
  ASSERT_TRUE(s.found) << s.reason;
  EXPECT_TRUE(torch::isfinite(s.weight).all().item<bool>()) << s.weight;
  EXPECT_TRUE(torch::isfinite(fg_map(split, s)).all().item<bool>());
}

TEST(CprFebFit, NoForegroundIsNotFoundWithAReason) {
  // Every position the same vector.
  const auto uniform = torch::ones({2, 16, 24, 24}) * torch::linspace(-1, 1, 16).view({1, 16, 1, 1});
  const FebFit u = fit_feb(uniform, 66);
  EXPECT_FALSE(u.found);
  EXPECT_FALSE(u.reason.empty());
  EXPECT_FALSE(u.weight.defined());

  // Two kinds of cells, but the centre looks like the border: the second
  // kind sits only in a ring between band and centre.
  const int64_t h = 24;
  auto ring = torch::zeros({2, 4, h, h});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < h; ++x)
      if (!in_band(y, x, h) && !in_centre(y, x, h)) ring.index_put_({torch::indexing::Slice(), 0, y, x}, 5.0f);
  ring += 0.01 * torch::randn({2, 4, h, h});
  const FebFit r = fit_feb(ring, 66);
  EXPECT_FALSE(r.found);
  EXPECT_NE(r.reason.find("centre"), std::string::npos) << r.reason;
}

TEST(CprFebFit, BadInputIsAnInputError) {
  test::expect_error<InputError>([] { fit_feb(torch::Tensor()); }, {"[N,C,h,w]"});
  test::expect_error<InputError>([] { fit_feb(torch::zeros({256, 8, 8})); }, {"[N,C,h,w]", "3-D"});
  test::expect_error<InputError>([] { fit_feb(torch::zeros({0, 256, 8, 8})); }, {"empty"});
}

TEST(CprFebFit, OfficialFixtureForegroundIsReproduced) {
  // tests/data/cpr/tiny-object: the official get_feb (sklearn KMeans + LDA)
  // on the 6 fixture images. 6 x 80 x 80 positions < 50,000, so k-means sees
  // every vector here too; the maps differ only through the k-means random
  // stream, the LDA rank tolerance and the 1 % order statistic.
  const auto& fx = cprtest::fixture();
  const FebFit f = fit_feb(fx.train.tap0, 66);
  ASSERT_TRUE(f.found) << f.reason;
  const auto ours = apply_feb(fx.train.tap0, f.weight, f.bias);
  const auto official = cprtest::npy("tiny-object/fg_train.npy").to(torch::kFloat);
  ASSERT_EQ(ours.sizes(), official.sizes());
  const double mean_diff = (ours - official).abs().mean().item<double>();
  const double max_diff = (ours - official).abs().max().item<double>();
  const auto w_off = cprtest::npy("tiny-object/feb_weight.npy").flatten().to(torch::kDouble);
  const double cosine =
      (unit(f.weight.flatten().to(torch::kDouble)).dot(unit(w_off))).item<double>();
  std::cout << "FEB vs official on tiny-object: samples " << f.background_samples << " per class, range "
            << f.decision_min << " .. " << f.decision_max << ", weight cosine " << cosine << ", map mean |diff| "
            << mean_diff << ", max |diff| " << max_diff << "\n";
  EXPECT_GT(cosine, 0.999);
  EXPECT_LT(mean_diff, 0.01);
}

// Timing at the official size (run with --gtest_also_run_disabled_tests):
// 40 images x 256 x 80 x 80 (256,000 positions), a centred object.
TEST(CprFebFit, DISABLED_TimingAtOfficialSize) {
  const int64_t N = 40, C = 256, h = 80;
  torch::manual_seed(9);
  auto tap0 = torch::randn({N, C, h, h}) * 0.5 + torch::randn({1, C, 1, 1});
  const auto lo = centre_lo(h) - 8, hi = centre_hi(h) + 8;  // object a bit larger than the centre prior
  using torch::indexing::Slice;
  tap0.index({Slice(), Slice(), Slice(lo, hi), Slice(lo, hi)}) += torch::randn({1, C, 1, 1});
  const auto t0 = std::chrono::steady_clock::now();
  const FebFit f = fit_feb(tap0, 66);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(f.found) << f.reason;
  const auto maps = apply_feb(tap0, f.weight, f.bias);
  std::cout << "fit_feb on " << N << "x" << C << "x" << h << "x" << h << ": " << s << " s, " << f.background_samples
            << " samples per class, object mean " << maps.index({Slice(), Slice(lo, hi), Slice(lo, hi)}).mean().item<double>()
            << ", border mean " << maps.index({Slice(), Slice(0, 3), Slice()}).mean().item<double>() << "\n";
}

namespace {

// n 64x64 PNGs: a noisy grey background with a bright centred disc.
std::string write_images(const std::string& dir, int n) {
  fs::create_directories(dir + "/good");
  cv::RNG rng(11);
  for (int i = 0; i < n; ++i) {
    cv::Mat img(64, 64, CV_8UC3, cv::Scalar(60, 60, 60));
    cv::Mat noise(64, 64, CV_8UC3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 20);
    img += noise;
    cv::circle(img, cv::Point(32 + i % 2, 32 - i % 3), 17, cv::Scalar(40, 170 + 10 * i, 230), cv::FILLED);
    cv::imwrite(dir + "/good/" + std::to_string(i) + ".png", img);
  }
  return dir;
}

}  // namespace

TEST(CprPackageBuild, WritesAPackageThatLoadsWithAForegroundBranch) {
  const auto root = test::test_tmp_dir("cprfit");
  const auto train = write_images((root / "train").string(), 4);
  torch::manual_seed(12);
  CprNetwork net(64);
  Profile base;
  base.category = "disc";
  CprSettings settings;
  settings.k = 2;
  settings.foreground = true;
  PackageBuildOptions o;
  o.size = 64;
  o.batch = 3;
  std::vector<std::string> stages;
  o.progress = [&](const std::string& s, int64_t, int64_t) {
    if (stages.empty() || stages.back() != s) stages.push_back(s);
  };
  const auto out = (root / "pkg").string();
  const auto res = write_cpr_package(*net, train, base, settings, o, out);
  EXPECT_EQ(res.images, 4);
  EXPECT_GT(res.bank_bytes, 0);
  EXPECT_TRUE(fs::exists(res.weights_path));
  EXPECT_TRUE(fs::exists(res.bank_path));
  ASSERT_TRUE(res.feb.found) << res.feb.reason;
  EXPECT_EQ(stages, (std::vector<std::string>{"read images", "features", "codebook", "foreground"}));

  const Profile p = load_profile(res.profile_path);
  EXPECT_EQ(p.method, "cpr");
  EXPECT_EQ(p.category, "disc");
  EXPECT_EQ(p.input.width, 64);
  EXPECT_TRUE(fs::equivalent(p.model, out)) << p.model;
  const auto cs = parse_cpr_settings(p);
  EXPECT_TRUE(cs.foreground);
  EXPECT_EQ(cs.k, 2);
  auto model = create_model(p, ModelOptions{"cpu", "fp32", 0});
  ASSERT_TRUE(model);
  EXPECT_FALSE(model->describe().empty());
  const auto bank = CprBank::load(res.bank_path);
  EXPECT_TRUE(bank.has_foreground());
  EXPECT_EQ(bank.size(), 4);
  EXPECT_EQ(bank.train_names[3], "good/3.png");
  EXPECT_EQ(bank.foreground.sizes(), (std::vector<int64_t>{4, 16, 16}));
  // Scores a 64x64 batch.
  auto scored = model->score(torch::randn({1, 3, 64, 64}), {cv::Size(64, 64)});
  (void)scored;

  // Foreground off: no FEB in the bank.
  settings.foreground = false;
  const auto res_off = write_cpr_package(*net, train, base, settings, o, (root / "pkg_off").string());
  EXPECT_FALSE(res_off.feb.found);
  EXPECT_FALSE(CprBank::load(res_off.bank_path).has_foreground());

  // No images -> InputError naming the folder.
  fs::create_directories(root / "empty");
  test::expect_error<InputError>(
      [&] { write_cpr_package(*net, (root / "empty").string(), base, settings, o, (root / "pkg2").string()); },
      {(root / "empty").string()});
  EXPECT_FALSE(fs::exists(root / "pkg2" / "bank.bin"));
  fs::remove_all(root);
}
