// FEB fit (see cpr/bank/feb_fit.h and docs/reference cpr.md section 7).
//
// Steps, all on the CPU:
//   1. 2-cluster k-means (OpenCV, k-means++ seeding, 10 attempts) on up to
//      50,000 seeded-randomly sampled denseblock1 vectors; every position of
//      every image is then labelled with its nearest centre.
//   2. Priors on the h x w grid: a border band of int(3/80 h) cells (>= 1)
//      is background, the centre square int(h/2 - h/5) .. int(h/2 + h/5)
//      (exclusive; same for w) is where the foreground is looked for. The
//      background cluster is the most frequent one in the band.
//   3. Samples: band cells of the background cluster (class 0), centre cells
//      of the other cluster (class 1); a balanced random subset of
//      min(15000, #bg, #fg) per class.
//   4. Two-class LDA in float64 the way sklearn's svd solver does it: the
//      pooled within-class scatter of standardised features, decomposed by
//      SVD, directions with a singular value below 1e-4 of the largest are
//      dropped (pseudo-inverse), w = Sigma^+ (mu1 - mu0), and with equal
//      priors b = -1/2 (mu1 + mu0) . w.
//   5. Decision values on all positions; robust min-max (ratio 0.01): min is
//      the exact k-th smallest, max the exact k-th largest, k = int(0.01 n)
//      (>= 1); folded into a 1x1 conv weight w/(max-min), bias (b-min)/(max-min).
#include "cpr/bank/feb_fit.h"

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <sstream>
#include <torch/types.h>

#include "core/error.h"

namespace advad::cpr {

namespace {

constexpr int64_t kKmeansSamples = 50000;
constexpr int kKmeansAttempts = 10;
constexpr int64_t kMaxPerClass = 15000;
constexpr double kRankTol = 1e-4;
constexpr double kRobustRatio = 0.01;

// [C, h*w] view of image i (no copy when tap0 is contiguous).
torch::Tensor image_columns(const torch::Tensor& tap0, int64_t i) {
  return tap0[i].reshape({tap0.size(1), tap0.size(2) * tap0.size(3)});
}

// Rows at flat positions (image * h*w + cell), gathered as [n, C] float64
// (grouped by image, in image order).
torch::Tensor gather_rows(const torch::Tensor& tap0, const std::vector<int64_t>& flat) {
  const int64_t hw = tap0.size(2) * tap0.size(3);
  std::vector<std::vector<int64_t>> per_image(static_cast<size_t>(tap0.size(0)));
  for (const int64_t f : flat) per_image[static_cast<size_t>(f / hw)].push_back(f % hw);
  std::vector<torch::Tensor> parts;
  for (size_t i = 0; i < per_image.size(); ++i) {
    if (per_image[i].empty()) continue;
    auto idx = torch::tensor(per_image[i], torch::kLong);
    parts.push_back(image_columns(tap0, static_cast<int64_t>(i)).index_select(1, idx).t().to(torch::kDouble));
  }
  return torch::cat(parts).contiguous();
}

// pool[pick[j]] for every j.
std::vector<int64_t> pick_from(const std::vector<int64_t>& pool, const torch::Tensor& pick) {
  std::vector<int64_t> out(static_cast<size_t>(pick.numel()));
  const auto* p = pick.data_ptr<int64_t>();
  for (size_t j = 0; j < out.size(); ++j) out[j] = pool[static_cast<size_t>(p[j])];
  return out;
}

// w (float64 [C]) of the two-class LDA, sklearn svd-solver style.
torch::Tensor lda_direction(const torch::Tensor& x0, const torch::Tensor& x1) {
  const auto mu0 = x0.mean(0), mu1 = x1.mean(0);
  auto xc = torch::cat({x0 - mu0, x1 - mu1});
  auto sd = xc.pow(2).mean(0).sqrt();
  // Channels constant within both classes: exactly 0 centred; treat tiny
  // rounding residue the same way (no division by ~0).
  const auto flat = sd <= 1e-12 * (1.0 + torch::max(mu0.abs(), mu1.abs()));
  sd = torch::where(flat, torch::ones_like(sd), sd);
  xc = torch::where(flat.unsqueeze(0), torch::zeros_like(xc), xc);
  const double fac = 1.0 / static_cast<double>(xc.size(0) - 2);
  const auto scaled = xc.div(sd).mul(std::sqrt(fac));
  // torch::linalg_svd (ATen's op), not torch::linalg::svd: LibTorch 2.x has no torch/linalg.h.
  const auto svd = torch::linalg_svd(scaled, /*full_matrices=*/false);
  const auto s = std::get<1>(svd);
  const auto vt = std::get<2>(svd);
  const double smax = s.numel() ? s[0].item<double>() : 0.0;
  if (!(smax > 0)) return torch::zeros_like(mu0);
  const auto keep = s > kRankTol * smax;
  const auto s_r = s.index({keep});
  const auto v_r = vt.index({keep});  // [r, C]
  const auto diff = (mu1 - mu0).div(sd);
  const auto w_std = v_r.t().matmul(v_r.matmul(diff).div(s_r.pow(2)));
  return w_std.div(sd);
}

// The k-th smallest (1-based) of v (v is reordered).
double kth_smallest(std::vector<double>& v, size_t k) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k - 1), v.end());
  return v[k - 1];
}

FebFit not_found(FebFit f, std::string reason) {
  f.found = false;
  f.reason = std::move(reason);
  f.weight = torch::Tensor();
  f.bias = torch::Tensor();
  return f;
}

}  // namespace

FebFit fit_feb(const torch::Tensor& tap0_in, uint64_t seed) {
  if (!tap0_in.defined() || tap0_in.dim() != 4)
    throw InputError("CPR foreground fit: the denseblock1 features must be [N,C,h,w], got " +
                     (tap0_in.defined() ? std::to_string(tap0_in.dim()) + "-D" : std::string("nothing")));
  if (tap0_in.numel() == 0)
    throw InputError("CPR foreground fit: the denseblock1 features are empty; give at least one training image");
  const torch::Tensor tap0 = tap0_in.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t N = tap0.size(0), C = tap0.size(1), h = tap0.size(2), w = tap0.size(3), hw = h * w;
  const int64_t total = N * hw;
  FebFit fit;
  torch::Generator gen = at::detail::createCPUGenerator(seed);

  // 1. k-means with 2 clusters on sampled vectors, then label every position.
  const int64_t n_km = std::min(kKmeansSamples, total);
  auto pick = torch::randperm(total, gen, torch::kLong).narrow(0, 0, n_km).contiguous();
  auto sample = gather_rows(tap0, std::vector<int64_t>(pick.data_ptr<int64_t>(), pick.data_ptr<int64_t>() + n_km))
                    .to(torch::kFloat)
                    .contiguous();
  const auto spread = (std::get<0>(sample.max(0)) - std::get<0>(sample.min(0))).max().item<float>();
  if (n_km < 2 || !(spread > 0))
    return not_found(fit, "the features are uniform (one k-means cluster), so there is no centred foreground");
  cv::Mat mat(static_cast<int>(n_km), static_cast<int>(C), CV_32F, sample.data_ptr<float>());
  cv::Mat km_labels, centres;
  cv::theRNG().state = seed;
  cv::kmeans(mat, 2, km_labels, cv::TermCriteria(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, 300, 1e-4),
             kKmeansAttempts, cv::KMEANS_PP_CENTERS, centres);
  auto cen = torch::from_blob(centres.data, {2, C}, torch::kFloat).clone();
  const auto cen_sq = cen.pow(2).sum(1, /*keepdim=*/true);  // [2,1]
  std::vector<uint8_t> label(static_cast<size_t>(total));
  for (int64_t i = 0; i < N; ++i) {
    // ||x - c||^2 - ||x||^2 = ||c||^2 - 2 c.x
    auto d = (cen_sq - 2 * cen.matmul(image_columns(tap0, i))).contiguous();  // [2, hw]
    const float* d0 = d.data_ptr<float>();
    const float* d1 = d0 + hw;
    for (int64_t p = 0; p < hw; ++p) label[static_cast<size_t>(i * hw + p)] = d1[p] < d0[p] ? 1 : 0;
  }

  // 2. Priors on the grid.
  const int64_t band_h = std::max<int64_t>(1, static_cast<int64_t>(3.0 / 80.0 * static_cast<double>(h)));
  const int64_t band_w = std::max<int64_t>(1, static_cast<int64_t>(3.0 / 80.0 * static_cast<double>(w)));
  const auto lo = [](int64_t n) { return static_cast<int64_t>(n / 2.0 - n / 5.0); };
  const auto hi = [](int64_t n) { return static_cast<int64_t>(n / 2.0 + n / 5.0); };
  std::vector<uint8_t> prior(static_cast<size_t>(hw), 0);  // 1 = border band, 2 = centre square
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      auto& m = prior[static_cast<size_t>(y * w + x)];
      if (y < band_h || y >= h - band_h || x < band_w || x >= w - band_w) m = 1;
      else if (y >= lo(h) && y < hi(h) && x >= lo(w) && x < hi(w)) m = 2;
    }
  int64_t band_count[2] = {0, 0};
  for (int64_t f = 0; f < total; ++f)
    if (prior[static_cast<size_t>(f % hw)] == 1) ++band_count[label[static_cast<size_t>(f)]];
  const uint8_t bg = band_count[1] > band_count[0] ? 1 : 0;  // ties -> cluster 0, like argmax

  // 3. Samples.
  std::vector<int64_t> bg_pos, fg_pos;
  for (int64_t f = 0; f < total; ++f) {
    const uint8_t m = prior[static_cast<size_t>(f % hw)];
    const uint8_t l = label[static_cast<size_t>(f)];
    if (m == 1 && l == bg) bg_pos.push_back(f);
    else if (m == 2 && l != bg) fg_pos.push_back(f);
  }
  const int64_t n_bg = static_cast<int64_t>(bg_pos.size()), n_fg = static_cast<int64_t>(fg_pos.size());
  if (n_fg == 0)
    return not_found(fit, "no centre cell differs from the background cluster of the border (" +
                              std::to_string(n_bg) + " background cells)");
  if (n_bg == 0) return not_found(fit, "no border cell belongs to the background cluster");
  const int64_t n = std::min({kMaxPerClass, n_bg, n_fg});
  if (n < 2) return not_found(fit, "too few samples per class (" + std::to_string(n) + ") for the LDA");
  auto pick_bg = torch::randperm(n_bg, gen, torch::kLong).narrow(0, 0, n).contiguous();
  auto pick_fg = torch::randperm(n_fg, gen, torch::kLong).narrow(0, 0, n).contiguous();
  const auto x0 = gather_rows(tap0, pick_from(bg_pos, pick_bg));
  const auto x1 = gather_rows(tap0, pick_from(fg_pos, pick_fg));
  fit.background_samples = fit.foreground_samples = n;

  // 4. LDA.
  const auto wdir = lda_direction(x0, x1);
  if (!torch::isfinite(wdir).all().item<bool>()) return not_found(fit, "the LDA direction is not finite");
  const double b = -0.5 * (x0.mean(0) + x1.mean(0)).dot(wdir).item<double>();

  // 5. Decision values on all positions, robust min-max.
  std::vector<double> dec(static_cast<size_t>(total));
  const auto wrow = wdir.unsqueeze(0);  // [1, C]
  for (int64_t i = 0; i < N; ++i) {
    auto d = wrow.matmul(image_columns(tap0, i).to(torch::kDouble)).contiguous();  // [1, hw]
    const double* dp = d.data_ptr<double>();
    for (int64_t p = 0; p < hw; ++p) dec[static_cast<size_t>(i * hw + p)] = dp[p] + b;
  }
  const size_t k = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(total) * kRobustRatio));
  const double dmin = kth_smallest(dec, k);
  const double dmax = kth_smallest(dec, static_cast<size_t>(total) - k + 1);
  fit.decision_min = dmin;
  fit.decision_max = dmax;
  if (!(dmax > dmin)) {
    std::ostringstream why;
    why << "the foreground decision values have no spread (robust range " << dmin << " .. " << dmax << ")";
    return not_found(fit, why.str());
  }
  const double range = dmax - dmin;
  fit.weight = (wdir / range).to(torch::kFloat).reshape({1, C, 1, 1}).contiguous();
  fit.bias = torch::tensor({static_cast<float>((b - dmin) / range)}, torch::kFloat);
  fit.found = true;
  fit.reason.clear();
  return fit;
}

}  // namespace advad::cpr
