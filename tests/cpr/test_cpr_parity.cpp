// End-to-end parity with the official CPR code (fixtures tiny = texture,
// tiny-object = object with FEB), and the same pipeline on cases the fixture
// was not built for (other K, fewer training images, a batch of queries),
// checked against an independent in-test reference (the official unfold
// formulation).
#include <gtest/gtest.h>

#include <torch/nn/functional/fold.h>

#include "cpr/model/grb.h"
#include "cpr/model/model.h"
#include "cpr/model/score.h"
#include "cpr/model/scorer.h"
#include "cpr_fixture.h"

using namespace advad::cpr;
using cprtest::fixture;
using cprtest::max_abs_diff;
using cprtest::npy;

namespace {

// Bank with the fixture's stored (Python-fitted) codebook and, for objects, FEB.
CprBank fixture_bank(bool object) {
  const auto& f = fixture();
  torch::Tensor w, b;
  if (object) {
    w = npy("tiny-object/feb_weight.npy");
    b = npy("tiny-object/feb_bias.npy");
  }
  return assemble_bank(f.train, npy("tiny/grb_codebook.npy"), w, b, f.train_names);
}

CprSettings fixture_settings(bool object, int k = 3) {
  CprSettings s;
  s.k = k;
  s.foreground = object;
  return s;
}

// The official test.py matching (zero-padded unfold, divide by unfold(ones)+1e-8),
// one retrieved image at a time to bound memory; min over them.
torch::Tensor unfold_reference(const torch::Tensor& q, const torch::Tensor& refs, int region) {
  namespace F = torch::nn::functional;
  const int64_t C = refs.size(1), H = refs.size(2), W = refs.size(3);
  auto opts = F::UnfoldFuncOptions(region).padding(region / 2);
  auto valid = F::unfold(torch::ones({1, 1, H, W}), opts).reshape({1, -1, H, W}) + 1e-8;
  torch::Tensor best;
  for (int64_t k = 0; k < refs.size(0); ++k) {
    auto region_f = F::unfold(refs.narrow(0, k, 1), opts).reshape({1, C, -1, H, W});
    auto dist = (1 - (q.unsqueeze(0).unsqueeze(2) * region_f).sum(1)) / valid;
    auto m = std::get<0>(dist.min(1))[0];
    best = best.defined() ? torch::minimum(best, m) : m;
  }
  return best;
}

// Independent reference of the whole map for a given retrieval (official code path).
torch::Tensor reference_map(const CprBank& bank, const std::vector<int64_t>& retrieved, bool object) {
  const auto& f = fixture();
  auto idx = torch::tensor(retrieved, torch::kLong);
  std::vector<torch::Tensor> scores;
  for (size_t s = 0; s < 2; ++s)
    scores.push_back(unfold_reference(f.query_heads[s], bank.features[s].index_select(0, idx), s == 0 ? 3 : 1));
  auto map = fuse_scales(scores, 320, 320);
  if (object) {
    auto fgq = apply_feb(f.query.taps[0], bank.feb_weight, bank.feb_bias)[0];
    map = map.to(torch::kDouble) * foreground_weight(fgq, bank.foreground.index_select(0, idx), 320, 320);
  }
  return gaussian_blur(map, 33, 4.0);
}

}  // namespace

TEST(CprParity, GrbCodesHistogramsDistances) {
  const auto& f = fixture();
  const auto codebook = npy("tiny/grb_codebook.npy");
  const auto codes = grb_codes(f.query.taps[0], codebook);
  EXPECT_TRUE(torch::equal(codes, npy("tiny/grb_query_code.npy")));
  const auto hist = grb_histograms(codes, 12);
  EXPECT_EQ(hist.sizes(), (std::vector<int64_t>{1, 25, 13}));
  EXPECT_LE(max_abs_diff(hist, npy("tiny/grb_query_hist.npy")), 0.0);
  const auto train_hist = grb_histograms(grb_codes(f.train.tap0, codebook), 12);
  EXPECT_LE(max_abs_diff(train_hist, npy("tiny/grb_train_hist.npy")), 0.0);
  EXPECT_LE(max_abs_diff(grb_distances(hist, train_hist), npy("tiny/grb_query_kl_sum.npy")), 1e-6);
}

TEST(CprParity, RetrievalMatchesOfficialRanking) {
  const auto& f = fixture();
  auto bank = fixture_bank(false);
  auto r = score_query(bank, fixture_settings(false), f.query.taps[0][0], f.query_heads);
  EXPECT_EQ(r.ranking, cprtest::to_vec(npy("tiny/retrieval_full.npy")));
  EXPECT_EQ(r.retrieved, cprtest::to_vec(npy("tiny/retrieved.npy")));
}

TEST(CprParity, TextureMapsAndScore) {
  const auto& f = fixture();
  auto r = score_query(fixture_bank(false), fixture_settings(false), f.query.taps[0][0], f.query_heads);
  EXPECT_LE(max_abs_diff(r.scale_dist[0], npy("tiny/score_scale0.npy")), 1e-4);
  EXPECT_LE(max_abs_diff(r.scale_dist[1], npy("tiny/score_scale1.npy")), 1e-4);
  EXPECT_LE(max_abs_diff(r.fused, npy("tiny/score_320.npy")), 1e-4);
  EXPECT_LE(max_abs_diff(r.blurred, npy("tiny/anomaly_map.npy")), 1e-4);
  const double ref = npy("tiny/score.npy").item<double>();
  EXPECT_NEAR(r.score, ref, 1e-5 * ref);
  EXPECT_FALSE(r.fg_weight.defined());
  std::cout << "[texture] scale0 " << max_abs_diff(r.scale_dist[0], npy("tiny/score_scale0.npy")) << " map "
            << max_abs_diff(r.blurred, npy("tiny/anomaly_map.npy")) << " score " << r.score << " vs " << ref << "\n";
}

TEST(CprParity, ObjectForegroundMapsAndScore) {
  const auto& f = fixture();
  auto bank = fixture_bank(true);
  // The training images' FEB maps equal the official f_*.npy.
  EXPECT_LE(max_abs_diff(bank.foreground, npy("tiny-object/fg_train.npy")), 1e-5);
  auto r = score_query(bank, fixture_settings(true), f.query.taps[0][0], f.query_heads);
  EXPECT_EQ(r.retrieved, cprtest::to_vec(npy("tiny/retrieved.npy")));
  ASSERT_TRUE(r.fg_weight.defined());
  EXPECT_EQ(r.fg_weight.scalar_type(), torch::kDouble);  // official foreground step is float64
  EXPECT_LE(max_abs_diff(apply_feb(f.query.taps[0], bank.feb_weight, bank.feb_bias)[0],
                         npy("tiny-object/fg_query.npy")[0]),
            1e-5);
  EXPECT_LE(max_abs_diff(r.fg_weight, npy("tiny-object/fg_weight_320.npy")), 1e-5);
  EXPECT_LE(max_abs_diff(r.blurred, npy("tiny-object/anomaly_map.npy")), 1e-4);
  const double ref = 504.57625988563194;  // config.json derived.object_score (float64, unrounded)
  EXPECT_NEAR(r.score, ref, 1e-5 * ref);
  EXPECT_NEAR(r.score, npy("tiny-object/score.npy").item<double>(), 1e-5 * ref);
  std::cout << "[object] map " << max_abs_diff(r.blurred, npy("tiny-object/anomaly_map.npy")) << " score "
            << r.score << " vs " << ref << "\n";
}

TEST(CprParity, ForegroundOnWithoutFebFallsBackToWeightOne) {
  const auto& f = fixture();
  auto r = score_query(fixture_bank(false), fixture_settings(true), f.query.taps[0][0], f.query_heads);
  EXPECT_FALSE(r.fg_weight.defined());
  EXPECT_LE(max_abs_diff(r.blurred, npy("tiny/anomaly_map.npy")), 1e-4);
}

TEST(CprGeneral, OtherKMatchesUnfoldReference) {
  const auto& f = fixture();
  for (bool object : {false, true}) {
    auto bank = fixture_bank(object);
    for (int k : object ? std::vector<int>{2, 6} : std::vector<int>{1, 5, 50}) {
      auto r = score_query(bank, fixture_settings(object, k), f.query.taps[0][0], f.query_heads);
      const auto full = cprtest::to_vec(npy("tiny/retrieval_full.npy"));
      ASSERT_EQ(r.retrieved, std::vector<int64_t>(full.begin(), full.begin() + std::min(k, 6)));
      EXPECT_LE(max_abs_diff(r.blurred, reference_map(bank, r.retrieved, object)), 1e-5) << "k=" << k;
    }
  }
}

TEST(CprGeneral, FewerTrainingImagesKeepRelativeOrder) {
  const auto& f = fixture();
  const auto full = cprtest::to_vec(npy("tiny/retrieval_full.npy"));  // [0,3,2,5,1,4]
  const std::vector<int64_t> keep = {5, 1, 2, 4};                       // drop 0 and 3, reorder
  for (bool object : {false, true}) {
    auto bank = fixture_bank(object).select(keep);
    ASSERT_EQ(bank.size(), 4);
    auto r = score_query(bank, fixture_settings(object, 2), f.query.taps[0][0], f.query_heads);
    // Expected: the official ranking restricted to the kept images, in bank positions.
    std::vector<int64_t> expect;
    for (auto orig : full)
      for (size_t p = 0; p < keep.size(); ++p)
        if (keep[p] == orig) expect.push_back(static_cast<int64_t>(p));
    EXPECT_EQ(r.ranking, expect);
    EXPECT_LE(max_abs_diff(r.blurred, reference_map(bank, r.retrieved, object)), 1e-5);
  }
}

TEST(CprGeneral, TrainingImageAsQueryRetrievesItselfFirst) {
  // Official train lists (r_result.json) drop the image itself; with it kept it must come first.
  const auto& f = fixture();
  auto bank = fixture_bank(false);
  const auto train_lists = npy("tiny/train_retrieval.npy");
  for (int64_t i = 0; i < 6; ++i) {
    std::array<torch::Tensor, 2> heads = {f.train.heads[0][i], f.train.heads[1][i]};
    auto r = score_query(bank, fixture_settings(false), f.train.tap0[i], heads);
    ASSERT_EQ(r.ranking[0], i);
    EXPECT_EQ(std::vector<int64_t>(r.ranking.begin() + 1, r.ranking.end()), cprtest::to_vec(train_lists[i]));
    EXPECT_LT(r.scale_dist[0].max().item<float>(), 1e-4);  // matched against itself
  }
}

TEST(CprGeneral, BatchOfQueriesEqualsSingleQueries) {
  // A batch [query, train_4, query] through the Model interface: each tile
  // gets the single-query result, at its own out size.
  const auto& f = fixture();
  auto batch = torch::stack({f.query_image, f.train_images[4], f.query_image});
  for (bool object : {false, true}) {
    CprModel model(f.net, fixture_bank(object), fixture_settings(object), torch::kCPU);
    model.settings().blur = true;  // official test.py map
    auto scored = model.score(batch, {cv::Size(320, 320), cv::Size(160, 120), cv::Size(640, 480)});
    const std::string ref = object ? "tiny-object/anomaly_map.npy" : "tiny/anomaly_map.npy";
    ASSERT_EQ(scored.maps.size(), 3u);
    ASSERT_EQ(scored.scores.size(), 3u);
    EXPECT_EQ(scored.maps[0].sizes(), (std::vector<int64_t>{320, 320}));
    EXPECT_EQ(scored.maps[1].sizes(), (std::vector<int64_t>{120, 160}));
    EXPECT_EQ(scored.maps[2].sizes(), (std::vector<int64_t>{480, 640}));
    EXPECT_EQ(scored.maps[0].scalar_type(), torch::kFloat);
    EXPECT_LE(max_abs_diff(scored.maps[0], npy(ref)), 1e-4);
    EXPECT_LE(max_abs_diff(scored.maps[2], resize_bilinear(npy(ref), 480, 640)), 1e-4);
    const double ref_score = object ? 504.57625988563194 : npy("tiny/score.npy").item<double>();
    EXPECT_NEAR(scored.scores[0], ref_score, 1e-5 * ref_score);
    EXPECT_FLOAT_EQ(scored.scores[0], scored.scores[2]);
    EXPECT_LT(scored.scores[1], scored.scores[0]);  // a normal training image scores below the defect query
  }
}

TEST(CprGeneral, UnblurredMapIsTheSeedMap) {
  // blur = off (ISVL seed): the returned map is the fused (fg-weighted) 320 map, resized.
  const auto& f = fixture();
  CprModel model(f.net, fixture_bank(false), fixture_settings(false), torch::kCPU);
  auto scored = model.score(f.query_image.unsqueeze(0), {cv::Size(320, 320)});
  EXPECT_LE(max_abs_diff(scored.maps[0], npy("tiny/score_320.npy")), 1e-4);
  EXPECT_NEAR(scored.scores[0], npy("tiny/score.npy").item<double>(), 1e-5 * 535.5);
}

TEST(CprGeneral, Fp16BankStaysClose) {
  const auto& f = fixture();
  auto s = fixture_settings(false);
  s.bank_dtype = torch::kHalf;
  CprModel model(f.net, fixture_bank(false), s, torch::kCPU);
  EXPECT_EQ(model.bank().features[0].scalar_type(), torch::kHalf);
  auto d = model.score_details(f.query_image.unsqueeze(0));
  EXPECT_EQ(d[0].retrieved, cprtest::to_vec(npy("tiny/retrieved.npy")));
  EXPECT_LE(max_abs_diff(d[0].blurred, npy("tiny/anomaly_map.npy")), 5e-3);
}
