#include "cpr/model/scorer.h"

#include <algorithm>
#include <chrono>
#ifdef ADVAD_WITH_CUDA
#include <torch/cuda.h>
#endif

#include "core/error.h"
#include "cpr/bank/build.h"
#include "cpr/model/grb.h"
#include "cpr/model/match.h"
#include "cpr/model/score.h"

namespace advad::cpr {
namespace {

using Clock = std::chrono::steady_clock;

// Adds the time since `start` to *slot (after syncing the device) and restarts.
class StageTimer {
 public:
  StageTimer(CprTimings* t, torch::Device d) : t_(t), device_(d), start_(Clock::now()) {}
  void lap(double CprTimings::*slot) {
    if (!t_) return;
    sync_device(device_);
    const auto now = Clock::now();
    t_->*slot += std::chrono::duration<double, std::milli>(now - start_).count();
    start_ = now;
  }

 private:
  CprTimings* t_;
  torch::Device device_;
  Clock::time_point start_;
};

}  // namespace

void sync_device([[maybe_unused]] const torch::Device& device) {
#ifdef ADVAD_WITH_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? -1 : device.index());
#endif
}

// Everything after the retrieval; ranking: bank indices, nearest first (all of
// them, or all but the excluded ones).
static CprQueryResult score_ranked(const CprBank& bank, const CprSettings& s, const torch::Tensor& tap0,
                            const std::array<torch::Tensor, 2>& heads, const std::vector<int64_t>& ranking,
                            CprTimings* timings);

CprQueryResult score_query(const CprBank& bank, const CprSettings& s, const torch::Tensor& tap0,
                           const std::array<torch::Tensor, 2>& heads, CprTimings* timings,
                           const std::vector<int64_t>& exclude) {
  StageTimer timer(timings, bank.device());
  const auto codes = grb_codes(tap0.unsqueeze(0), bank.codebook);
  const auto hist = grb_histograms(codes, bank.codebook.size(0));
  auto ranking = grb_rank(grb_distances(hist.to(bank.histograms.device()), bank.histograms));
  if (!exclude.empty()) {
    ranking.erase(std::remove_if(ranking.begin(), ranking.end(),
                                 [&](int64_t i) { return std::find(exclude.begin(), exclude.end(), i) != exclude.end(); }),
                  ranking.end());
    if (ranking.empty())
      throw ModelError("CPR: leaving out the query's own bank entries leaves no training image to compare with (bank of " +
                       std::to_string(bank.size()) + "); calibrate on a held-out split instead");
  }
  timer.lap(&CprTimings::retrieval);
  return score_ranked(bank, s, tap0, heads, ranking, timings);
}

CprQueryResult score_query_with(const CprBank& bank, const CprSettings& s, const torch::Tensor& tap0,
                                const std::array<torch::Tensor, 2>& heads, const std::vector<int64_t>& ranking,
                                CprTimings* timings) {
  const int64_t N = bank.size();
  if (static_cast<int64_t>(ranking.size()) != N)
    throw ModelError("CPR ranking has " + std::to_string(ranking.size()) + " entries for a bank of " + std::to_string(N));
  return score_ranked(bank, s, tap0, heads, ranking, timings);
}

static CprQueryResult score_ranked(const CprBank& bank, const CprSettings& s, const torch::Tensor& tap0,
                            const std::array<torch::Tensor, 2>& heads, const std::vector<int64_t>& ranking,
                            CprTimings* timings) {
  StageTimer timer(timings, bank.device());
  const int64_t N = static_cast<int64_t>(ranking.size());
  CprQueryResult r;
  r.ranking = ranking;
  const int64_t K = std::min<int64_t>(s.k, N);
  r.retrieved.assign(ranking.begin(), ranking.begin() + K);
  const auto idx = torch::tensor(r.retrieved, torch::kLong).to(bank.device());

  for (size_t sc = 0; sc < 2; ++sc)  // reads the retrieved images in the bank (no gathered copy)
    r.scale_dist[sc] = local_min_distance(heads[sc].to(torch::kFloat), bank.features[sc], r.retrieved, s.region_sizes[sc]);
  r.fused = fuse_scales({r.scale_dist[0], r.scale_dist[1]}, bank.input_h, bank.input_w);
  timer.lap(&CprTimings::matching);

  r.map = r.fused;
  if (s.foreground && bank.has_foreground()) {
    // Official: float64 weights (numpy + cv2.resize), so the product, blur and top-T run in float64.
    const auto fg_query = apply_feb(tap0.unsqueeze(0).to(torch::kFloat), bank.feb_weight, bank.feb_bias)[0];
    const auto fg_refs = bank.foreground.index_select(0, idx.to(bank.foreground.device()));
    r.fg_weight = foreground_weight(fg_query, fg_refs, bank.input_h, bank.input_w);
    r.map = r.fused.to(torch::kDouble) * r.fg_weight;
  }
  timer.lap(&CprTimings::foreground);

  r.blurred = gaussian_blur(r.map, s.blur_ksize, s.blur_sigma);
  r.score = top_t_sum(r.blurred, s.top_t);
  timer.lap(&CprTimings::post);
  return r;
}

}  // namespace advad::cpr
