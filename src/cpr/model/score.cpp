#include "cpr/model/score.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/functional/upsampling.h>

#include "core/error.h"

namespace advad::cpr {
namespace F = torch::nn::functional;

torch::Tensor resize_bilinear(const torch::Tensor& map, int64_t h, int64_t w) {
  TORCH_CHECK(map.dim() == 2, "resize_bilinear: expects a 2-D map");
  if (map.size(0) == h && map.size(1) == w) return map;
  return F::interpolate(map.unsqueeze(0).unsqueeze(0), F::InterpolateFuncOptions()
                                                           .size(std::vector<int64_t>{h, w})
                                                           .mode(torch::kBilinear)
                                                           .align_corners(false))
      .squeeze(0)
      .squeeze(0);
}

torch::Tensor fuse_scales(const std::vector<torch::Tensor>& dists, int64_t out_h, int64_t out_w) {
  TORCH_CHECK(!dists.empty(), "fuse_scales: no scales");
  const int64_t h = dists[0].size(0), w = dists[0].size(1);
  torch::Tensor sum;
  for (const auto& d : dists) {
    auto r = resize_bilinear(d, h, w);
    sum = sum.defined() ? sum + r : r.clone();
  }
  return resize_bilinear(sum, out_h, out_w);
}

torch::Tensor foreground_weight(const torch::Tensor& fg_query, const torch::Tensor& fg_refs, int64_t out_h,
                                int64_t out_w) {
  auto weight = resize_bilinear(fg_query.to(torch::kDouble), out_h, out_w);
  for (int64_t k = 0; k < fg_refs.size(0); ++k)
    weight = torch::maximum(weight, resize_bilinear(fg_refs[k].to(torch::kDouble), out_h, out_w));
  return weight;
}

torch::Tensor gaussian_blur(const torch::Tensor& map, int k, double sigma) {
  if (k < 1 || k % 2 == 0) throw ModelError("CPR blur kernel " + std::to_string(k) + " must be odd and >= 1");
  const int half = k / 2;
  if (half >= map.size(0) || half >= map.size(1))
    throw ModelError("CPR blur kernel " + std::to_string(k) + " is too large for a " + std::to_string(map.size(1)) +
                     "x" + std::to_string(map.size(0)) + " map (reflect padding needs kernel/2 < side)");
  // torchvision: linspace(-half, half) in float32, pdf, normalised, then cast.
  auto x = torch::linspace(-half, half, k, torch::kFloat);
  auto pdf = torch::exp(-0.5 * (x / sigma).pow(2));
  auto k1 = (pdf / pdf.sum()).to(map.device(), map.scalar_type());
  auto img = map.unsqueeze(0).unsqueeze(0);
  img = F::pad(img, F::PadFuncOptions({half, half, half, half}).mode(torch::kReflect));
  img = F::conv2d(img, k1.view({1, 1, 1, k}));
  img = F::conv2d(img, k1.view({1, 1, k, 1}));
  return img.squeeze(0).squeeze(0);
}

double top_t_sum(const torch::Tensor& map, int64_t T) {
  const int64_t n = map.numel();
  if (T < 1 || T > n)
    throw ModelError("CPR top_t " + std::to_string(T) + " must be in [1, " + std::to_string(n) + "] (map pixels)");
  return std::get<0>(torch::topk(map.flatten(), T)).sum().item<double>();
}

}  // namespace advad::cpr
