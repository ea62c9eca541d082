// CPR building blocks without the network: local matching vs the official
// unfold formulation, GRB geometry / histograms / ranking, blur and resize vs
// OpenCV, top-T, [cpr] settings validation, and the bank file format.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <torch/nn/functional/fold.h>

#include "core/error.h"
#include "test_support.h"
#include "cpr/bank/bank.h"
#include "cpr/bank/codebook_cv.h"
#include "cpr/model/grb.h"
#include "cpr/model/match.h"
#include "cpr/model/network.h"
#include "cpr/model/score.h"
#include "cpr/model/settings.h"

using namespace advad;
using namespace advad::cpr;
namespace fs = std::filesystem;

namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// The official test.py formulation: zero-padded unfold, divide by unfold(ones)+1e-8.
torch::Tensor unfold_min_distance(const torch::Tensor& q, const torch::Tensor& refs, int region) {
  namespace F = torch::nn::functional;
  const int64_t K = refs.size(0), C = refs.size(1), H = refs.size(2), W = refs.size(3);
  auto opts = F::UnfoldFuncOptions(region).padding(region / 2);
  auto rf = F::unfold(refs, opts).reshape({K, C, -1, H, W});
  auto dist = 1 - (q.unsqueeze(0).unsqueeze(2) * rf).sum(1);
  dist = dist / (F::unfold(torch::ones({1, 1, H, W}), opts).reshape({1, -1, H, W}) + 1e-8);
  return std::get<0>(std::get<0>(dist.min(1)).min(0));
}

cv::Mat to_mat(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat).contiguous();
  return cv::Mat(static_cast<int>(c.size(0)), static_cast<int>(c.size(1)), CV_32F, c.data_ptr<float>()).clone();
}
torch::Tensor from_mat(const cv::Mat& m) {
  return torch::from_blob(m.data, {m.rows, m.cols}, torch::kFloat).clone();
}

std::string temp_dir(const std::string& name) {
  auto d = advad::test::test_tmp_dir("cpr") / name;
  fs::create_directories(d);
  return d.string();
}

CprBank small_bank(int64_t N, bool feb, torch::ScalarType dtype = torch::kFloat) {
  torch::manual_seed(3);
  CprBank b;
  b.input_h = b.input_w = 32;
  b.features = {l2_normalise(torch::randn({N, 8, 8, 8})).to(dtype), l2_normalise(torch::randn({N, 8, 4, 4})).to(dtype)};
  b.codebook = torch::randn({12, 256});
  b.histograms = torch::rand({N, 25, 13});
  if (feb) {
    b.feb_weight = torch::randn({1, 256, 1, 1});
    b.feb_bias = torch::randn({1});
    b.foreground = torch::rand({N, 8, 8});
  }
  for (int64_t i = 0; i < N; ++i) b.train_names.push_back("good/" + std::to_string(i) + ".png");
  return b;
}

void expect_bank_equal(const CprBank& a, const CprBank& b) {
  for (size_t s = 0; s < 2; ++s) EXPECT_TRUE(torch::equal(a.features[s], b.features[s]));
  EXPECT_TRUE(torch::equal(a.codebook, b.codebook));
  EXPECT_TRUE(torch::equal(a.histograms, b.histograms));
  EXPECT_EQ(a.has_foreground(), b.has_foreground());
  if (a.has_foreground()) {
    EXPECT_TRUE(torch::equal(a.feb_weight, b.feb_weight));
    EXPECT_TRUE(torch::equal(a.feb_bias, b.feb_bias));
    EXPECT_TRUE(torch::equal(a.foreground, b.foreground));
  }
  EXPECT_EQ(a.train_names, b.train_names);
  EXPECT_EQ(a.input_h, b.input_h);
}

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

// ---- local matching ------------------------------------------------------

TEST(CprMatch, ShiftedOffsetsEqualOfficialUnfold) {
  torch::manual_seed(0);
  for (int region : {1, 3, 5})
    for (int64_t K : {1, 4})
      for (auto hw : {std::pair<int64_t, int64_t>{9, 13}, {2, 2}, {1, 5}}) {
        auto q = l2_normalise(torch::randn({1, 16, hw.first, hw.second}))[0];
        auto refs = l2_normalise(torch::randn({K, 16, hw.first, hw.second}));
        auto got = local_min_distance(q, refs, region);
        auto ref = unfold_min_distance(q, refs, region);
        EXPECT_LE(max_abs_diff(got, ref), 1e-6) << "region " << region << " K " << K << " " << hw.first << "x"
                                                << hw.second;
      }
}

TEST(CprMatch, ExactNeighbourIsFoundAtBorders) {
  // The reference equals the query shifted by one cell: region 3 finds it
  // (distance 0) except where the shifted source lies outside the map.
  torch::manual_seed(1);
  auto q = l2_normalise(torch::randn({1, 8, 6, 7}))[0];
  auto ref = torch::roll(q, {1}, {2}).unsqueeze(0);  // ref(y, x) = q(y, x-1)
  auto d = local_min_distance(q, ref, 3);
  // q(y,x) = ref(y, x+1): found for x+1 < 7.
  EXPECT_LT(d.narrow(1, 0, 6).abs().max().item<float>(), 1e-5);
  auto d1 = local_min_distance(q, ref, 1);
  EXPECT_GT(d1.narrow(1, 0, 6).min().item<float>(), 1e-3);
}

TEST(CprMatch, EvenRegionIsAnError) {
  auto q = torch::zeros({4, 3, 3});
  EXPECT_THROW(local_min_distance(q, q.unsqueeze(0), 2), ModelError);
}

// ---- GRB -------------------------------------------------------------------

TEST(CprGrb, BlockGeometryIncludingBothSidesPadding) {
  auto g80 = grb_blocks(80, 80);
  EXPECT_EQ(g80.block_h, 16);
  EXPECT_EQ(g80.pad_h, 0);
  EXPECT_EQ(g80.count(), 25);
  auto g64 = grb_blocks(64, 64);  // block 13, pad 1 on every side, still 5x5
  EXPECT_EQ(g64.block_h, 13);
  EXPECT_EQ(g64.pad_h, 1);
  EXPECT_EQ(g64.rows, 5);
  EXPECT_EQ(g64.cols, 5);
  auto g72 = grb_blocks(72, 96);
  EXPECT_EQ(g72.block_h, 15);
  EXPECT_EQ(g72.pad_h, 3);
  EXPECT_EQ(g72.rows, 5);
  EXPECT_EQ(g72.block_w, 20);
  EXPECT_EQ(g72.pad_w, 4);
  EXPECT_EQ(g72.cols, 5);
}

TEST(CprGrb, HistogramsCountPaddingAsBinZero) {
  auto codes = torch::full({1, 64, 64}, 4, torch::kLong);
  auto h = grb_histograms(codes, 12);
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{1, 25, 13}));
  EXPECT_LE(max_abs_diff(h.sum(-1), torch::ones({1, 25})), 1e-6);
  // Corner block: one padded row (13) + one padded column (12) of 169 pixels.
  EXPECT_NEAR(h[0][0][0].item<float>(), 25.0 / 169.0, 1e-7);
  EXPECT_NEAR(h[0][0][5].item<float>(), 144.0 / 169.0, 1e-7);
  // Block (1,1) is inside the map (padded rows 13..25 -> map rows 12..24).
  EXPECT_EQ(h[0][6][0].item<float>(), 0.0f);
  // Last block row: padded rows 52..64 -> map rows 51..63, no padding.
  EXPECT_EQ(h[0][24][0].item<float>(), 0.0f);
  // Codes out of the codebook are an error, not silent garbage.
  EXPECT_THROW(grb_histograms(torch::full({1, 10, 10}, 12, torch::kLong), 12), ModelError);
}

TEST(CprGrb, HistogramsAreRowMajorBlocks) {
  auto codes = torch::zeros({1, 80, 80}, torch::kLong);
  codes.narrow(1, 0, 16).narrow(2, 16, 16).fill_(7);  // block row 0, column 1
  auto h = grb_histograms(codes, 12);
  EXPECT_EQ(h[0][1][8].item<float>(), 1.0f);
  EXPECT_EQ(h[0][5][1].item<float>(), 1.0f);
}

TEST(CprGrb, RankingTruncatedKlAndTies) {
  auto q = torch::full({25, 13}, 1.0f / 13);
  auto refs = torch::stack({q, q, q});  // identical: all distances 0, ties keep index order
  auto d = grb_distances(q, refs);
  EXPECT_LE(d.abs().max().item<float>(), 1e-6);
  EXPECT_EQ(grb_rank(d), (std::vector<int64_t>{0, 1, 2}));
  // A reference that differs in 5 blocks only is as close as identical (the 5 largest are dropped).
  auto r1 = q.clone();
  r1.narrow(0, 0, 5).zero_();
  r1.narrow(0, 0, 5).select(1, 3).fill_(1.0f);
  auto r2 = q.clone();
  r2.narrow(0, 0, 6).zero_();
  r2.narrow(0, 0, 6).select(1, 3).fill_(1.0f);
  auto d2 = grb_distances(q, torch::stack({r2, r1, q}));
  EXPECT_GT(d2[0].item<float>(), 1.0f);
  EXPECT_LE(std::abs(d2[1].item<float>()), 1e-6);
  EXPECT_EQ(grb_rank(d2), (std::vector<int64_t>{1, 2, 0}));
}

TEST(CprGrb, CodesTakeTheNearestCentreFirstOnTies) {
  auto codebook = torch::zeros({3, 4});
  codebook[1].fill_(1.0f);
  codebook[2].fill_(1.0f);  // duplicate of 1: never chosen
  auto x = torch::zeros({1, 4, 2, 2});
  x[0].select(1, 1).fill_(0.9f);  // row 1 near centre 1
  auto c = grb_codes(x, codebook);
  EXPECT_EQ(c[0][0][0].item<int64_t>(), 0);
  EXPECT_EQ(c[0][1][0].item<int64_t>(), 1);
  EXPECT_EQ(c[0][1][1].item<int64_t>(), 1);
}

// ---- fusion, blur, score ---------------------------------------------------

TEST(CprScore, BilinearResizeMatchesOpenCv) {
  torch::manual_seed(2);
  for (auto sz : {std::pair<int, int>{40, 80}, {80, 320}, {320, 128}}) {
    auto m = torch::rand({sz.first, sz.first});
    cv::Mat out;
    cv::resize(to_mat(m), out, cv::Size(sz.second, sz.second), 0, 0, cv::INTER_LINEAR);
    EXPECT_LE(max_abs_diff(resize_bilinear(m, sz.second, sz.second), from_mat(out)), 1e-5);
  }
}

TEST(CprScore, BlurMatchesOpenCvReflect101) {
  torch::manual_seed(4);
  auto m = torch::rand({64, 96});
  cv::Mat out;
  cv::GaussianBlur(to_mat(m), out, cv::Size(33, 33), 4, 4, cv::BORDER_REFLECT_101);
  EXPECT_LE(max_abs_diff(gaussian_blur(m, 33, 4.0), from_mat(out)), 1e-5);
  auto c = torch::full({40, 40}, 0.25, torch::kDouble);
  auto bc = gaussian_blur(c, 33, 4.0);
  EXPECT_EQ(bc.scalar_type(), torch::kDouble);
  // The weights are normalised in float32 (torchvision), so they sum to 1 only to ~1e-7.
  EXPECT_LE(max_abs_diff(bc, c), 1e-7);
  EXPECT_THROW(gaussian_blur(torch::zeros({10, 10}), 33, 4.0), ModelError);
  EXPECT_THROW(gaussian_blur(m, 4, 4.0), ModelError);
}

TEST(CprScore, FuseAndTopT) {
  auto s0 = torch::ones({8, 8});
  auto s1 = torch::full({4, 4}, 2.0f);
  auto f = fuse_scales({s0, s1}, 32, 32);
  EXPECT_EQ(f.sizes(), (std::vector<int64_t>{32, 32}));
  EXPECT_LE(max_abs_diff(f, torch::full({32, 32}, 3.0f)), 1e-6);
  auto m = torch::arange(100, torch::kFloat).view({10, 10});
  EXPECT_DOUBLE_EQ(top_t_sum(m, 3), 99.0 + 98.0 + 97.0);
  EXPECT_THROW(top_t_sum(m, 101), ModelError);
  EXPECT_THROW(top_t_sum(m, 0), ModelError);
}

TEST(CprScore, ForegroundWeightIsMaxOfResizedMapsInFloat64) {
  auto q = torch::zeros({4, 4});
  auto refs = torch::zeros({2, 4, 4});
  q[0][0] = 1.0f;
  refs[1][3][3] = 0.5f;
  auto w = foreground_weight(q, refs, 16, 16);
  EXPECT_EQ(w.scalar_type(), torch::kDouble);
  EXPECT_DOUBLE_EQ(w[0][0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(w[15][15].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(w[8][8].item<double>(), 0.0);
}

// ---- settings --------------------------------------------------------------

TEST(CprSettings, DefaultsAndValidValues) {
  Profile p;
  p.path = "/x/can.ini";
  auto d = parse_cpr_settings(p);
  EXPECT_EQ(d.k, 10);
  EXPECT_EQ(d.region_sizes, (std::array<int, 2>{3, 1}));
  EXPECT_FALSE(d.foreground);
  EXPECT_EQ(d.top_t, 512);
  p.method_groups["cpr"] = {{"k", "3"},           {"region_sizes", "5, 3"},       {"foreground", "on"},
                            {"top_t", "100"},     {"blur", "on"},                 {"bank_dtype", "fp16"},
                            {"blur_sigma", "2.5"}, {"backbone_weights", "../w/densenet201.pth"}};
  auto s = parse_cpr_settings(p);
  EXPECT_EQ(s.k, 3);
  EXPECT_EQ(s.region_sizes, (std::array<int, 2>{5, 3}));
  EXPECT_TRUE(s.foreground);
  EXPECT_TRUE(s.blur);
  EXPECT_EQ(s.top_t, 100);
  EXPECT_EQ(s.bank_dtype, torch::kHalf);
  EXPECT_DOUBLE_EQ(s.blur_sigma, 2.5);
  EXPECT_EQ(s.backbone_weights, "/w/densenet201.pth");
  Profile p2;
  store_cpr_settings(s, p2);
  auto s2 = parse_cpr_settings(p2);
  EXPECT_EQ(s2.k, 3);
  EXPECT_EQ(s2.region_sizes, s.region_sizes);
  EXPECT_EQ(s2.bank_dtype, torch::kHalf);
  EXPECT_TRUE(s2.foreground);
}

TEST(CprSettings, BadValuesNameFileKeyAndAcceptedValues) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"k", "0", "integer 1..100000"},    {"k", "ten", "integer 1..100000"},
      {"region_sizes", "2,1", "odd"},     {"region_sizes", "3", "two odd"},
      {"foreground", "maybe", "on | off"}, {"bank_dtype", "int8", "fp32 | fp16"},
      {"top_t", "-5", "integer 1..1073741824"},            {"blur_ksize", "32", "odd"},
      {"blur_sigma", "0", "> 0"},         {"colour", "red", "accepted keys"}};
  for (const auto& [key, value, accepted] : cases) {
    Profile p;
    p.path = "/models/vial.ini";
    p.method_groups["cpr"] = {{key, value}};
    const std::string msg = error_of<ProfileError>([&] { parse_cpr_settings(p); });
    EXPECT_NE(msg.find("/models/vial.ini"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[cpr]"), std::string::npos) << msg;
    EXPECT_NE(msg.find(key), std::string::npos) << msg;
    EXPECT_NE(msg.find(accepted), std::string::npos) << msg;
  }
}

// ---- bank file ---------------------------------------------------------------

TEST(CprBankFile, RoundTripFp32Fp16AndForeground) {
  const auto dir = temp_dir("bank_rt");
  for (bool feb : {false, true})
    for (auto dtype : {torch::kFloat, torch::kHalf}) {
      auto b = small_bank(3, feb, dtype);
      const auto path = dir + "/bank.bin";
      b.save(path);
      auto l = CprBank::load(path);
      expect_bank_equal(b, l);
      EXPECT_EQ(l.features[0].scalar_type(), dtype);
    }
  fs::remove_all(dir);
}

// The features of a loaded bank are views of a shared, read-only map of the
// file (not private copies): the file shows in /proc/self/maps while the bank
// lives, and no longer after the last tensor pointing into it is gone.
TEST(CprBankFile, FeaturesAreMemoryMappedFromTheFile) {
  const auto dir = temp_dir("bank_map");
  const auto path = dir + "/bank.bin";
  auto b = small_bank(3, true, torch::kHalf);
  b.save(path);
  auto mapped = [&] {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line))
      if (line.find(path) != std::string::npos) return true;
    return false;
  };
  EXPECT_FALSE(mapped());
  {
    auto l = CprBank::load(path);
    EXPECT_TRUE(mapped());
    expect_bank_equal(b, l);
    // The same dtype on the CPU: still the mapped tensor, not a copy.
    auto same = l.to(torch::kCPU, torch::kHalf);
    EXPECT_EQ(same.features[0].data_ptr(), l.features[0].data_ptr());
    // Another dtype is a private copy, equal in value.
    auto f32 = l.to(torch::kCPU, torch::kFloat);
    EXPECT_NE(f32.features[0].data_ptr(), l.features[0].data_ptr());
    EXPECT_TRUE(torch::equal(f32.features[1], l.features[1].to(torch::kFloat)));
    // Replacing the file (as save() and a retrain do: write, then rename) leaves
    // the loaded bank intact.
    small_bank(2, false).save(path);
    expect_bank_equal(b, l);
  }
  EXPECT_FALSE(mapped());
  fs::remove_all(dir);
}

TEST(CprBankFile, SizeIsLinearInTrainingImages) {
  auto b = small_bank(4, true);
  const int64_t per = (8 * 64 + 8 * 16) * 4 + 25 * 13 * 4 + 64 * 4;
  EXPECT_EQ(b.bytes_per_image(), per);
  EXPECT_EQ(b.bytes(), 4 * per + 12 * 256 * 4 + 256 * 4 + 4);
  EXPECT_EQ(b.to(torch::kCPU, torch::kHalf).bytes_per_image(), per - (8 * 64 + 8 * 16) * 2);
  auto s = b.select({3, 1});
  EXPECT_EQ(s.size(), 2);
  EXPECT_TRUE(torch::equal(s.features[1][0], b.features[1][3]));
  EXPECT_EQ(s.train_names, (std::vector<std::string>{"good/3.png", "good/1.png"}));
}

TEST(CprBankFile, CorruptFilesGiveErrorsNamingTheFile) {
  const auto dir = temp_dir("bank_bad");
  const auto good = dir + "/bank.bin";
  small_bank(2, true).save(good);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir + "/" + name, std::ios::binary) << content;
    return dir + "/" + name;
  };
  auto expect_error = [](const std::string& path, const std::string& what) {
    const std::string msg = error_of<ModelError>([&] { CprBank::load(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  };
  expect_error(dir + "/missing.bin", "cannot open");
  expect_error(write("magic.bin", "NOTABANK" + bytes.substr(8)), "bad magic");
  expect_error(write("trunc.bin", bytes.substr(0, bytes.size() - 100)), "truncated");
  expect_error(write("short.bin", bytes.substr(0, 30)), "header");
  // Half-copied by one byte of the last tensor's padding, or appended to: the length is checked to the byte.
  expect_error(write("one_short.bin", bytes.substr(0, bytes.size() - 1)), "truncated");
  expect_error(write("one_long.bin", bytes + "x"), "header describes");
  std::string flipped = bytes;
  flipped[flipped.size() - 300] ^= 0x5a;
  expect_error(write("flip.bin", flipped), "checksum");
  std::string header = bytes;
  header[30] = '#';
  expect_error(write("json.bin", header), "header");
  fs::remove_all(dir);
}

// Found by the bank fuzzer (tests/data/fuzz/bank): a float where the header needs an
// integer was converted with undefined behaviour; a shape whose byte count wraps
// 2^64 matched a small 'bytes' and mapped a view of 2^62 elements.
TEST(CprBankFile, HeaderIntegersAreCheckedWithoutOverflow) {
  const std::string floats = test::test_data("fuzz/bank/crash-ubsan-float-in-header-integer.bin");
  EXPECT_NE(error_of<ModelError>([&] { CprBank::load(floats); }).find("checksum is 6.1052558635879"),
            std::string::npos);
  const std::string wraps = test::test_data("fuzz/bank/wrapping-shape-codebook-2p62.bin");
  const std::string msg = error_of<ModelError>([&] { CprBank::load(wraps); });
  EXPECT_NE(msg.find("tensor 'codebook' size does not match its shape"), std::string::npos) << msg;
}

TEST(CprBankFile, MismatchedShapesAreRejected) {
  auto b = small_bank(3, true);
  b.histograms = torch::rand({2, 25, 13});
  EXPECT_NE(error_of<ModelError>([&] { b.validate("pkg/bank.bin"); }).find("histograms"), std::string::npos);
  auto c = small_bank(3, true);
  c.features[1] = torch::rand({3, 8, 5, 5});
  EXPECT_NE(error_of<ModelError>([&] { c.validate("pkg/bank.bin"); }).find("features1"), std::string::npos);
  auto e = small_bank(3, true);
  e.foreground = torch::rand({3, 4, 4});
  EXPECT_NE(error_of<ModelError>([&] { e.validate("x"); }).find("foreground"), std::string::npos);
  auto z = small_bank(3, false);
  z.features = {torch::zeros({0, 8, 8, 8}), torch::zeros({0, 8, 4, 4})};
  z.histograms = torch::zeros({0, 25, 13});
  z.train_names.clear();
  EXPECT_NE(error_of<ModelError>([&] { z.validate("x"); }).find("no training images"), std::string::npos);
  EXPECT_THROW(z.save(temp_dir("bank_empty") + "/bank.bin"), ModelError);
}

// ---- codebook stand-in (OpenCV k-means) --------------------------------------

TEST(CprCodebook, KmeansRecoversSeparatedWords) {
  // 12 well-separated centres in 256-D; each position of a [4,256,10,10] map is one of them + noise.
  torch::manual_seed(5);
  auto centres = torch::randn({12, 256}) * 10;
  auto assign = torch::randint(0, 12, {4, 10, 10}, torch::kLong);
  auto tap0 = (centres.index_select(0, assign.flatten()).view({4, 10, 10, 256}) + 0.01 * torch::randn({4, 10, 10, 256}))
                  .permute({0, 3, 1, 2})
                  .contiguous();
  auto book = kmeans_codebook_cv(tap0, 12, 50000, 3);
  ASSERT_EQ(book.sizes(), (std::vector<int64_t>{12, 256}));
  // Every true centre has a word within the noise level, and codes reproduce the assignment's partition.
  auto d = torch::cdist(centres, book);
  EXPECT_LT(std::get<0>(d.min(1)).max().item<float>(), 0.5f);
  auto codes = grb_codes(tap0, book);
  auto word_of_centre = std::get<1>(d.min(1));
  EXPECT_TRUE(torch::equal(codes, word_of_centre.index_select(0, assign.flatten()).view({4, 10, 10})));
  EXPECT_THROW(kmeans_codebook_cv(torch::randn({1, 256, 2, 2}), 12), InputError);
}
