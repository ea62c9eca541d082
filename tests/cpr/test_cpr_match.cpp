// CPR local matching (src/cpr/model/match.cpp) against a straightforward
// reference kept here (per image, per offset, per channel, summed in float64),
// on random inputs: float32 and float16 banks, contiguous and strided banks,
// retrieved entries in any order and repeated, odd map sizes and regions, the
// tensor-op path used off the CPU; and an fp16 bank against the fp32 one on
// the parity fixture's maps.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "cpr/model/match.h"
#include "cpr/model/model.h"
#include "cpr/model/score.h"
#include "cpr_fixture.h"

using namespace advad::cpr;
using cprtest::max_abs_diff;

namespace {

// min over the retrieved images k and the offsets (dy,dx) with the neighbour
// inside the map of 1 - sum_c q(c,y,x) * f[k](c,y+dy,x+dx), in float64.
torch::Tensor loop_reference(const torch::Tensor& query, const torch::Tensor& features,
                             const std::vector<int64_t>& indices, int region) {
  const auto q = query.to(torch::kDouble).contiguous();
  const int64_t D = q.size(0), H = q.size(1), W = q.size(2), half = region / 2;
  std::vector<double> best(static_cast<size_t>(H * W), std::numeric_limits<double>::infinity());
  std::vector<double> dot(static_cast<size_t>(H * W));
  const double* qp = q.data_ptr<double>();
  for (int64_t k : indices) {
    const auto f = features[k].to(torch::kDouble).contiguous();
    const double* fp = f.data_ptr<double>();
    for (int64_t dy = -half; dy <= half; ++dy)
      for (int64_t dx = -half; dx <= half; ++dx) {
        std::fill(dot.begin(), dot.end(), 0.0);
        for (int64_t c = 0; c < D; ++c)
          for (int64_t y = 0; y < H; ++y)
            for (int64_t x = 0; x < W; ++x) {
              if (y + dy < 0 || y + dy >= H || x + dx < 0 || x + dx >= W) continue;
              dot[static_cast<size_t>(y * W + x)] += qp[(c * H + y) * W + x] * fp[(c * H + y + dy) * W + x + dx];
            }
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) {
            if (y + dy < 0 || y + dy >= H || x + dx < 0 || x + dx >= W) continue;
            auto& b = best[static_cast<size_t>(y * W + x)];
            b = std::min(b, 1.0 - dot[static_cast<size_t>(y * W + x)]);
          }
      }
  }
  return torch::tensor(best, torch::kDouble).reshape({H, W}).to(torch::kFloat);
}

torch::Tensor random_features(int64_t n, int64_t d, int64_t h, int64_t w) {
  return l2_normalise(torch::randn({n, d, h, w}));
}

std::vector<int64_t> random_indices(int64_t k, int64_t n) {
  auto t = torch::randint(0, n, {k}, torch::kLong);
  return cprtest::to_vec(t);
}

struct Case {
  int64_t d, h, w, n, k;
  int region;
};

}  // namespace

TEST(CprMatchRewrite, EqualsLoopReferenceOnRandomInputs) {
  torch::manual_seed(12);
  const std::vector<Case> cases = {
      {384, 80, 80, 11, 10, 3},  // the 320 px scale-0 shape, K = 10
      {384, 40, 40, 11, 10, 1},  // scale 1
      {16, 9, 13, 5, 4, 3},   {13, 9, 13, 5, 3, 5},  // channels not a multiple of the 8-channel pass
      {8, 2, 2, 3, 2, 3},     {8, 1, 5, 2, 2, 3},   {8, 5, 1, 2, 2, 5},
      {24, 7, 19, 4, 6, 7},   {3, 3, 3, 1, 1, 1},   {40, 17, 6, 6, 5, 3},
  };
  for (const auto& c : cases) {
    const auto feats = random_features(c.n, c.d, c.h, c.w);
    const auto q = l2_normalise(torch::randn({1, c.d, c.h, c.w}))[0];
    const auto idx = random_indices(c.k, c.n);  // any order, repeats allowed
    const auto got = local_min_distance(q, feats, idx, c.region);
    ASSERT_EQ(got.scalar_type(), torch::kFloat);
    EXPECT_LE(max_abs_diff(got, loop_reference(q, feats, idx, c.region)), 1e-5)
        << "D " << c.d << " " << c.h << "x" << c.w << " K " << c.k << " region " << c.region;
  }
}

TEST(CprMatchRewrite, Fp16AndStridedBanksAndTensorOpsPath) {
  torch::manual_seed(3);
  const int64_t D = 48, H = 21, W = 26;
  const auto feats = random_features(7, D, H, W);
  const auto q = l2_normalise(torch::randn({1, D, H, W}))[0];
  const std::vector<int64_t> idx = {6, 0, 3, 3, 5};
  for (int region : {1, 3}) {
    const auto ref = loop_reference(q, feats, idx, region);
    // fp16 bank: computed in float32 on the stored (rounded) values.
    const auto half = feats.to(torch::kHalf);
    EXPECT_LE(max_abs_diff(local_min_distance(q, half, idx, region), loop_reference(q, half, idx, region)), 1e-5);
    // A strided (non-contiguous) float32 bank.
    const auto strided = torch::cat({feats, feats}, 1).narrow(1, D, D);
    ASSERT_FALSE(strided.is_contiguous());
    EXPECT_LE(max_abs_diff(local_min_distance(q, strided, idx, region), ref), 1e-5);
    // A float64 query is computed in float32.
    EXPECT_LE(max_abs_diff(local_min_distance(q.to(torch::kDouble), feats, idx, region), ref), 1e-5);
    // The tensor-op path (other devices), run on the CPU.
    EXPECT_LE(max_abs_diff(advad::cpr::detail::local_min_distance_tensor_ops(q, feats, idx, region), ref), 1e-5);
    // The K-image overload matches all entries in order.
    const auto all = local_min_distance(q, feats, region);
    EXPECT_LE(max_abs_diff(all, loop_reference(q, feats, {0, 1, 2, 3, 4, 5, 6}, region)), 1e-5);
  }
}

TEST(CprMatchRewrite, SameMapWithOneOrAllThreads) {
  torch::manual_seed(5);
  const auto feats = random_features(4, 64, 33, 30);
  const auto q = l2_normalise(torch::randn({1, 64, 33, 30}))[0];
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = local_min_distance(q, feats, {3, 1, 2}, 3);
  at::set_num_threads(std::max(2, before));
  const auto many = local_min_distance(q, feats, {3, 1, 2}, 3);
  at::set_num_threads(before);
  EXPECT_TRUE(torch::equal(one, many));
}

TEST(CprMatchRewrite, NanInTheQueryStaysInItsPixel) {
  torch::manual_seed(6);
  const auto feats = random_features(3, 16, 6, 7);
  auto q = l2_normalise(torch::randn({1, 16, 6, 7}))[0];
  q[5][2][3] = std::numeric_limits<float>::quiet_NaN();
  const auto d = local_min_distance(q, feats, {0, 1, 2}, 3);
  EXPECT_TRUE(std::isnan(d[2][3].item<float>()));
  EXPECT_EQ(torch::isnan(d).sum().item<int64_t>(), 1);
}

TEST(CprMatchRewrite, BadArgumentsAreErrors) {
  const auto feats = torch::zeros({2, 4, 3, 3});
  const auto q = torch::zeros({4, 3, 3});
  EXPECT_THROW(local_min_distance(q, feats, {2}, 3), advad::ModelError);
  EXPECT_THROW(local_min_distance(q, feats, {-1}, 3), advad::ModelError);
  EXPECT_THROW(local_min_distance(q, feats, std::vector<int64_t>{}, 3), advad::ModelError);
  EXPECT_THROW(local_min_distance(q, feats, {0}, 4), advad::ModelError);
  EXPECT_ANY_THROW(local_min_distance(torch::zeros({4, 3, 2}), feats, {0}, 3));
}

TEST(CprMatchRewrite, Fp16BankMapsWithin1e3OfFp32) {
  // The parity fixture (texture and object): the whole pipeline with the bank
  // in float16 against the same bank in float32.
  const auto& f = cprtest::fixture();
  for (bool object : {false, true}) {
    torch::Tensor w, b;
    if (object) {
      w = cprtest::npy("tiny-object/feb_weight.npy");
      b = cprtest::npy("tiny-object/feb_bias.npy");
    }
    const auto bank = assemble_bank(f.train, cprtest::npy("tiny/grb_codebook.npy"), w, b, f.train_names);
    CprSettings s;
    s.k = 3;
    s.foreground = object;
    CprModel fp32(f.net, bank, s, torch::kCPU);
    s.bank_dtype = torch::kHalf;
    CprModel fp16(f.net, bank, s, torch::kCPU);
    ASSERT_EQ(fp16.bank().features[0].scalar_type(), torch::kHalf);
    const auto a = fp32.score_details(f.query_image.unsqueeze(0))[0];
    const auto h = fp16.score_details(f.query_image.unsqueeze(0))[0];
    EXPECT_EQ(a.retrieved, h.retrieved);
    for (size_t sc = 0; sc < 2; ++sc) EXPECT_LE(max_abs_diff(a.scale_dist[sc], h.scale_dist[sc]), 1e-3);
    EXPECT_LE(max_abs_diff(a.map, h.map), 1e-3) << (object ? "object" : "texture");
    EXPECT_LE(max_abs_diff(a.blurred, h.blurred), 1e-3) << (object ? "object" : "texture");
    EXPECT_NEAR(a.score, h.score, 1e-3 * std::abs(a.score));
  }
}
