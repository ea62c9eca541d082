// Global Retrieval Branch (GRB), online part: visual-word codes of the
// denseblock1 features, S x S block histograms, and the truncated-KL ranking
// of the training images (official models/grb.py). The codebook itself is
// fitted elsewhere (fit_* files); here it is only applied.
#pragma once
#include <cstdint>
#include <vector>
#include <torch/types.h>

namespace advad::cpr {

constexpr int kGrbGrid = 5;              // S: histograms over an S x S block grid
constexpr double kGrbKeepRatio = 0.8;    // l_ratio: sum the int(S*S*0.8) smallest block divergences
constexpr double kGrbEps = 1e-8;         // added to both histograms before the KL

// Nearest codeword (squared L2, first index on ties) of every position.
// features: [B,C,H,W] float; codebook: [W,C] float. Returns [B,H,W] int64.
torch::Tensor grb_codes(const torch::Tensor& features, const torch::Tensor& codebook);

// Geometry of the block grid over an h x w code map (official BlockWiseHistogramEncoder):
// block = ceil(n/S), pad = block*S - n on BOTH sides, blocks = (n + 2*pad - block)/block + 1.
struct GrbBlocks {
  int block_h, block_w, pad_h, pad_w, rows, cols;
  int count() const { return rows * cols; }
};
GrbBlocks grb_blocks(int64_t h, int64_t w, int S = kGrbGrid);

// Block histograms of code maps [B,H,W] (int64, values 0..words-1):
// [B, blocks, words+1] float32, bin 0 = padding, bin k+1 = word k, each row
// the fraction of the block's pixels. Blocks in row-major order.
torch::Tensor grb_histograms(const torch::Tensor& codes, int64_t words, int S = kGrbGrid);

// Truncated KL of the query ([blocks,bins] or [1,blocks,bins]) to every
// reference ([N,blocks,bins]): per block sum_bins p*log(p/q) with p = hq+eps,
// q = href+eps, then the sum of the int(blocks*0.8) smallest. Returns [N] float32.
torch::Tensor grb_distances(const torch::Tensor& query_hist, const torch::Tensor& ref_hists);

// Training-image indices sorted by ascending distance; ties keep index order
// (what the official CPU argsort gives).
std::vector<int64_t> grb_rank(const torch::Tensor& distances);

}  // namespace advad::cpr
