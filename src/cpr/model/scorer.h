// Scoring one query against a CprBank (official test.py, with GRB and FEB
// run online): retrieval of the K nearest training images, per-scale local
// matching, fusion at the input size, foreground weighting, blur, top-T.
#pragma once
#include <array>
#include <vector>
#include <torch/types.h>

#include "cpr/bank/bank.h"
#include "cpr/model/settings.h"

namespace advad::cpr {

// Per-stage wall time in milliseconds, accumulated (benchmarks).
struct CprTimings {
  double backbone = 0, retrieval = 0, matching = 0, foreground = 0, post = 0;
  int images = 0;
};

struct CprQueryResult {
  std::vector<int64_t> ranking;           // all training images (less the excluded ones), nearest first
  std::vector<int64_t> retrieved;         // the first min(k, N)
  std::array<torch::Tensor, 2> scale_dist;  // [H/4,W/4], [H/8,W/8] float32
  torch::Tensor fused;      // [H,W] float32: scales summed, at the input size
  torch::Tensor fg_weight;  // [H,W] float64; undefined when foreground weighting is off
  torch::Tensor map;        // fused * fg_weight (float64) or fused (float32)
  torch::Tensor blurred;    // gaussian_blur(map): the official anomaly map
  double score = 0;         // sum of the top_t values of blurred
};

// tap0: the query's raw denseblock1 features [256,H/4,W/4]; heads: its
// L2-normalised head outputs [D,H/4,W/4], [D,H/8,W/8]; all on bank.device().
// Foreground weighting applies when settings.foreground and the bank has an
// FEB; with foreground on and no FEB in the bank the weight is 1.
// exclude: bank entries the query must not retrieve nor match against
// (leave-one-out: the entries that came from the query's own image); ModelError
// when nothing would be left.
CprQueryResult score_query(const CprBank& bank, const CprSettings& settings, const torch::Tensor& tap0,
                           const std::array<torch::Tensor, 2>& heads, CprTimings* timings = nullptr,
                           const std::vector<int64_t>& exclude = {});

// Same, with the retrieval given (parity tests inject the reference ranking).
CprQueryResult score_query_with(const CprBank& bank, const CprSettings& settings, const torch::Tensor& tap0,
                                const std::array<torch::Tensor, 2>& heads, const std::vector<int64_t>& ranking,
                                CprTimings* timings = nullptr);

// Waits for queued device work (CUDA) so that timings are honest; no-op on the CPU.
void sync_device(const torch::Device& device);

}  // namespace advad::cpr
