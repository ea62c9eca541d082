// Local retrieval: for every query position, the smallest cosine distance to
// the retrieved training images within a region x region neighbourhood.
//
// The official code unfolds the K reference maps with zero padding
// (K x C x r^2 x H x W floats, ~885 MB at K=10) and divides by the unfolded
// ones + 1e-8 so that padded neighbours become ~1e8 and never win. Here the
// padded neighbours are simply skipped: positions whose neighbour falls
// outside the map are not updated by that offset. The result is the same
// (valid divisors are 1 + 1e-8 == 1 in fp32; the centre offset is always
// valid).
//
// On the CPU the matcher reads the retrieved images straight from the bank
// (no gathered copy of the K images), one image at a time, in blocks of a few
// query rows: for each block the r^2 dot-product planes are accumulated over
// the channels in a small per-thread buffer (9 x 4 rows x W floats) and folded
// at once into the running minimum (fused min-cosine). Extra memory per call:
// the [H,W] result, the per-thread accumulators, and one fp32 copy of a single
// retrieved image ([D,H,W], 9.8 MB at 320 px, D=384) only when the bank is not
// contiguous float32 (e.g. an fp16 bank). Nothing is allocated per offset.
// Rows are spread over the intra-op threads. Other devices (CUDA) run the
// same per-image, per-offset sums with tensor ops (one [D,H,W] temporary).
#pragma once
#include <cstdint>
#include <vector>
#include <torch/types.h>

namespace advad::cpr {

// query: [D,H,W] L2-normalised; features: the bank's [N,D,H,W] L2-normalised
// features (float32 or float16); indices: the retrieved bank entries (K >= 1,
// each in [0,N)). region: odd side (3 at stride 4, 1 at stride 8).
// Returns [H,W] float32: min over the K entries and the offsets of
// 1 - <query(y,x), features[k](y+dy,x+dx)>, computed in float32.
torch::Tensor local_min_distance(const torch::Tensor& query, const torch::Tensor& features,
                                 const std::vector<int64_t>& indices, int region);

// Same against all of refs ([K,D,H,W]).
torch::Tensor local_min_distance(const torch::Tensor& query, const torch::Tensor& refs, int region);

namespace detail {
// The tensor-op path used off the CPU (exposed so that the tests can run it on the CPU).
torch::Tensor local_min_distance_tensor_ops(const torch::Tensor& query, const torch::Tensor& features,
                                            const std::vector<int64_t>& indices, int region);
}  // namespace detail

}  // namespace advad::cpr
