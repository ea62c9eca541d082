// Anomaly maps and image scores from an InpFormerOutput (official utils.py
// cal_anomaly_maps / evaluation_batch, and the ISVL seed's per-tile variant).
// All maps are float32.
#pragma once
#include <vector>
#include <torch/types.h>

#include "inpformer/inpformer_net.h"

namespace advad::inpformer {

// Per group: 1 - cos(E_g, D_g) over channels (eps 1e-8): [B,G,gh,gw].
torch::Tensor group_maps(const InpFormerOutput& out);

// utils.get_gaussian_kernel(5, 4) as a [1,1,5,5] float32 conv weight.
torch::Tensor gaussian_kernel(int ksize = 5, double sigma = 4.0);
// Zero-padded conv with that kernel: [B,1,h,w] -> [B,1,h,w].
torch::Tensor gaussian_blur(const torch::Tensor& map, int ksize = 5, double sigma = 4.0);

// Mean of the top int(h*w*ratio) values per item (at least 1): [B,1,h,w] or [B,h,w] -> [B].
torch::Tensor top_ratio_score(const torch::Tensor& map, double ratio = 0.01);

struct MapStages {
  torch::Tensor upsampled;  // [B,1,S,S]: group maps upsampled to the input side (align_corners=True), averaged
  torch::Tensor resized;    // [B,1,R,R]: resized to resize_to (align_corners=False)
  torch::Tensor map;        // [B,1,R,R]: blurred
  torch::Tensor score;      // [B]
};
// Official evaluation path: input side S (e.g. 392), resize_to R (256), blur, top 1 %.
MapStages official_map(const torch::Tensor& group_maps, int64_t input_h, int64_t input_w, int64_t resize_to = 256,
                       double max_ratio = 0.01);

// Seed (ISVL) path for one item: group maps [G,gh,gw] upsampled (align_corners=True)
// to out_h x out_w, averaged, blurred; returns [out_h,out_w] and the top-1 % score.
std::pair<torch::Tensor, float> seed_tile_map(const torch::Tensor& item_group_maps, int64_t out_h, int64_t out_w,
                                              double max_ratio = 0.01);

}  // namespace advad::inpformer
