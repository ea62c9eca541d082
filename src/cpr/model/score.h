// CPR online scoring after the local matching (official test.py): fusion of
// the per-scale distances, foreground weighting, blur and the top-T score.
#pragma once
#include <vector>
#include <torch/types.h>

namespace advad::cpr {

// Bilinear resize (align_corners=false, no antialias) of a 2-D map; the
// interpolation of torch.nn.functional.interpolate and of cv2.resize
// INTER_LINEAR. Keeps the dtype. Returns the input when the size is equal.
torch::Tensor resize_bilinear(const torch::Tensor& map, int64_t h, int64_t w);

// Each per-scale map is resized to the first one's size and they are summed;
// the sum is resized to (out_h, out_w). All float32 like the reference.
torch::Tensor fuse_scales(const std::vector<torch::Tensor>& dists, int64_t out_h, int64_t out_w);

// Foreground weight: the query's map and the retrieved training images' maps
// ([h,w] and [K,h,w], FEB outputs in [0,1]) each resized to (out_h, out_w)
// in float64, then the element-wise maximum (official: numpy float64 + cv2.resize).
torch::Tensor foreground_weight(const torch::Tensor& fg_query, const torch::Tensor& fg_refs, int64_t out_h,
                                int64_t out_w);

// torchvision gaussian_blur(img, (k,k), sigma): 1-D weights exp(-x^2/(2 sigma^2))
// normalised in float32, cast to the map's dtype, reflect padding. Applied as
// two 1-D passes (the 2-D kernel is their outer product). k odd, < map side.
torch::Tensor gaussian_blur(const torch::Tensor& map, int k, double sigma);

// Sum of the T largest values (DeSTSeg-style image score), in the map's dtype.
double top_t_sum(const torch::Tensor& map, int64_t T);

}  // namespace advad::cpr
