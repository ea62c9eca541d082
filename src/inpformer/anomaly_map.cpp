#include "inpformer/anomaly_map.h"

#include <cmath>
#include <ATen/ATen.h>

namespace advad::inpformer {

namespace {
at::Tensor bilinear(const at::Tensor& x, int64_t h, int64_t w, bool align_corners) {
  return at::upsample_bilinear2d(x, {h, w}, align_corners);
}
}  // namespace

torch::Tensor group_maps(const InpFormerOutput& out) {
  std::vector<torch::Tensor> ms;
  for (size_t g = 0; g < out.enc_groups.size(); ++g)
    ms.push_back(1.0 - at::cosine_similarity(out.enc_groups[g].to(at::kFloat), out.dec_groups[g].to(at::kFloat), 1, 1e-8));
  return at::stack(ms, 1);
}

torch::Tensor gaussian_kernel(int ksize, double sigma) {
  // As utils.get_gaussian_kernel: float32 grid, exp(-d^2 / (2 var)) / (2 pi var), normalised.
  auto coord = at::arange(ksize, at::kLong);
  auto xg = coord.repeat({ksize}).view({ksize, ksize});
  auto xy = at::stack({xg, xg.t()}, -1).to(at::kFloat);
  const double mean = (ksize - 1) / 2.0, var = sigma * sigma;
  auto k = (1.0 / (2.0 * M_PI * var)) * at::exp(-at::sum(at::pow(xy - mean, 2.0), -1) / (2 * var));
  k = k / at::sum(k);
  return k.view({1, 1, ksize, ksize});
}

torch::Tensor gaussian_blur(const torch::Tensor& map, int ksize, double sigma) {
  auto k = gaussian_kernel(ksize, sigma).to(map.device());
  return at::conv2d(map, k, {}, 1, ksize / 2);
}

torch::Tensor top_ratio_score(const torch::Tensor& map, double ratio) {
  auto flat = map.reshape({map.size(0), -1});
  int64_t k = std::max<int64_t>(1, static_cast<int64_t>(flat.size(1) * ratio));
  return std::get<0>(flat.topk(k, 1, true, true)).mean(1);
}

MapStages official_map(const torch::Tensor& gm, int64_t input_h, int64_t input_w, int64_t resize_to,
                       double max_ratio) {
  MapStages s;
  // Each group upsampled, then the mean (as cal_anomaly_maps: cat + mean).
  s.upsampled = bilinear(gm, input_h, input_w, true).mean(1, true);
  s.resized = resize_to > 0 ? bilinear(s.upsampled, resize_to, resize_to, false) : s.upsampled;
  s.map = gaussian_blur(s.resized);
  s.score = top_ratio_score(s.map, max_ratio);
  return s;
}

std::pair<torch::Tensor, float> seed_tile_map(const torch::Tensor& item_gm, int64_t out_h, int64_t out_w,
                                              double max_ratio) {
  auto up = bilinear(item_gm.unsqueeze(0), out_h, out_w, true).mean(1, true);
  auto m = gaussian_blur(up);
  float score = top_ratio_score(m, max_ratio).item<float>();
  return {m[0][0], score};
}

}  // namespace advad::inpformer
