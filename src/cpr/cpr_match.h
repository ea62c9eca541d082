// Local retrieval: for every query position, the smallest cosine distance to
// the retrieved training images within a region x region neighbourhood.
//
// The official code unfolds the K reference maps with zero padding
// (K x C x r^2 x H x W floats, ~885 MB at K=10) and divides by the unfolded
// ones + 1e-8 so that padded neighbours become ~1e8 and never win. Here each
// of the r^2 offsets is one shifted multiply-sum over the overlapping
// rectangle, folded into a running minimum; positions whose neighbour falls
// outside the map are simply not updated by that offset. The result is the
// same (valid divisors are 1 + 1e-8 == 1 in fp32; the centre offset is always
// valid), with O(K x C x H x W) memory.
#pragma once
#include <torch/types.h>

namespace advad::cpr {

// query: [D,H,W] L2-normalised; refs: [K,D,H,W] L2-normalised (any float type:
// computed in query's dtype). region: odd side (3 at stride 4, 1 at stride 8).
// Returns [H,W]: min over k and offsets of 1 - <query(y,x), refs[k](y+dy,x+dx)>.
torch::Tensor local_min_distance(const torch::Tensor& query, const torch::Tensor& refs, int region);

}  // namespace advad::cpr
