#include "cpr/model/grb.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace advad::cpr {

torch::Tensor grb_codes(const torch::Tensor& features, const torch::Tensor& codebook) {
  TORCH_CHECK(features.dim() == 4 && codebook.dim() == 2 && features.size(1) == codebook.size(1),
              "grb_codes: features [B,C,H,W] and codebook [W,C] must agree on C");
  const auto centres = codebook.to(features.device(), features.scalar_type());
  // Per centre, the official (x - c)^2 summed over channels (the same
  // strided channel reduction as its 5-D broadcast, without the 12x
  // temporary); strict < keeps the first index on ties like argmin.
  torch::Tensor best_d, best_i;
  for (int64_t k = 0; k < centres.size(0); ++k) {
    auto d = (features - centres[k].view({1, -1, 1, 1})).square().sum(1);  // [B,H,W]
    if (!best_d.defined()) {
      best_d = d;
      best_i = torch::zeros(d.sizes(), d.options().dtype(torch::kLong));
      continue;
    }
    auto closer = d < best_d;
    best_d = torch::where(closer, d, best_d);
    best_i.masked_fill_(closer, k);
  }
  return best_i;
}

GrbBlocks grb_blocks(int64_t h, int64_t w, int S) {
  GrbBlocks g{};
  g.block_h = static_cast<int>((h + S - 1) / S);
  g.block_w = static_cast<int>((w + S - 1) / S);
  g.pad_h = g.block_h * S - static_cast<int>(h);
  g.pad_w = g.block_w * S - static_cast<int>(w);
  g.rows = static_cast<int>((h + 2 * g.pad_h - g.block_h) / g.block_h + 1);
  g.cols = static_cast<int>((w + 2 * g.pad_w - g.block_w) / g.block_w + 1);
  return g;
}

torch::Tensor grb_histograms(const torch::Tensor& codes, int64_t words, int S) {
  TORCH_CHECK(codes.dim() == 3, "grb_histograms: codes must be [B,H,W]");
  const auto c = codes.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t B = c.size(0), H = c.size(1), W = c.size(2);
  const GrbBlocks g = grb_blocks(H, W, S);
  const int64_t bins = words + 1;
  auto hist = torch::zeros({B, g.count(), bins}, torch::kFloat);
  auto* hp = hist.data_ptr<float>();
  const auto* cp = c.data_ptr<int64_t>();
  const float area = static_cast<float>(g.block_h * g.block_w);
  std::vector<int64_t> counts(static_cast<size_t>(bins));
  for (int64_t b = 0; b < B; ++b)
    for (int by = 0; by < g.rows; ++by)
      for (int bx = 0; bx < g.cols; ++bx) {
        std::fill(counts.begin(), counts.end(), 0);
        // Padded coordinates; the padding (on both sides) counts as bin 0.
        for (int py = by * g.block_h; py < (by + 1) * g.block_h; ++py)
          for (int px = bx * g.block_w; px < (bx + 1) * g.block_w; ++px) {
            const int64_t y = py - g.pad_h, x = px - g.pad_w;
            int64_t bin = 0;
            if (y >= 0 && y < H && x >= 0 && x < W) {
              const int64_t code = cp[(b * H + y) * W + x];
              if (code < 0 || code >= words) throw ModelError("GRB code " + std::to_string(code) + " outside the codebook");
              bin = code + 1;
            }
            ++counts[static_cast<size_t>(bin)];
          }
        float* row = hp + (b * g.count() + by * g.cols + bx) * bins;
        for (int64_t k = 0; k < bins; ++k) row[k] = static_cast<float>(counts[static_cast<size_t>(k)]) / area;
      }
  return hist;
}

torch::Tensor grb_distances(const torch::Tensor& query_hist, const torch::Tensor& ref_hists) {
  auto q = query_hist.dim() == 2 ? query_hist.unsqueeze(0) : query_hist;
  TORCH_CHECK(ref_hists.dim() == 3 && q.size(1) == ref_hists.size(1) && q.size(2) == ref_hists.size(2),
              "grb_distances: histogram shapes differ");
  q = q.to(ref_hists.device(), torch::kFloat);
  const auto p = q + kGrbEps;
  const auto r = ref_hists.to(torch::kFloat) + kGrbEps;
  const auto per_block = (p * torch::log(p / r)).sum(-1);  // [N, blocks]
  const auto keep = static_cast<int64_t>(static_cast<double>(q.size(1)) * kGrbKeepRatio);
  return std::get<0>(torch::sort(per_block, -1)).narrow(-1, 0, keep).sum(-1);
}

std::vector<int64_t> grb_rank(const torch::Tensor& distances) {
  const auto d = distances.to(torch::kCPU, torch::kFloat).contiguous();
  const float* v = d.data_ptr<float>();
  std::vector<int64_t> idx(static_cast<size_t>(d.numel()));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [v](int64_t a, int64_t b) { return v[a] < v[b]; });
  return idx;
}

}  // namespace advad::cpr
