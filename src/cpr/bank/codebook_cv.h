// A GRB codebook fitted with OpenCV's k-means (k-means++ seeding, several
// attempts, Lloyd iterations) on sampled denseblock1 vectors. It stands in
// for the sklearn fit when the dedicated fit code (fit_* files) is not used:
// same sampling budget (50,000 vectors) and word count (12) as the official
// get_grb, but not bit-identical to sklearn (different random streams).
#pragma once
#include <cstdint>
#include <torch/types.h>

namespace advad::cpr {

// tap0: [N,C,H,W] float32 (CPU). Returns [words, C] float32 centres.
torch::Tensor kmeans_codebook_cv(const torch::Tensor& tap0, int words = 12, int64_t samples = 50000,
                                 int attempts = 10, uint64_t seed = 66);

}  // namespace advad::cpr
