#include "cpr/bank/build.h"

#include <torch/nn/functional/conv.h>

#include "core/error.h"
#include "cpr/model/grb.h"

namespace advad::cpr {

CprTrainFeatures extract_train_features(CprNetworkImpl& net, const std::vector<torch::Tensor>& images,
                                        const torch::Device& device, int batch, const ProgressFn& progress) {
  if (images.empty()) throw InputError("CPR needs at least one training image to build its bank; none were given");
  const auto sizes = images[0].sizes();
  for (size_t i = 1; i < images.size(); ++i)
    if (images[i].sizes() != sizes) throw InputError("CPR training image " + std::to_string(i) + " has a different size");
  const int64_t N = static_cast<int64_t>(images.size());
  CprTrainFeatures out;
  out.input_h = sizes[1];
  out.input_w = sizes[2];
  const bool was_training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tap0, h0, h1;
  for (int64_t start = 0; start < N; start += batch) {
    const int64_t n = std::min<int64_t>(batch, N - start);
    std::vector<torch::Tensor> part(images.begin() + start, images.begin() + start + n);
    auto f = net.forward(torch::stack(part).to(device, torch::kFloat));
    tap0.push_back(f.taps[0].to(torch::kCPU));
    h0.push_back(l2_normalise(f.heads[0]).to(torch::kCPU));
    h1.push_back(l2_normalise(f.heads[1]).to(torch::kCPU));
    if (progress) progress(start + n, N);
  }
  net.train(was_training);
  out.tap0 = torch::cat(tap0);
  out.heads = {torch::cat(h0), torch::cat(h1)};
  return out;
}

torch::Tensor apply_feb(const torch::Tensor& tap0, const torch::Tensor& feb_weight, const torch::Tensor& feb_bias) {
  namespace F = torch::nn::functional;
  auto w = feb_weight.to(tap0.device(), tap0.scalar_type()).view({1, tap0.size(1), 1, 1});
  auto b = feb_bias.to(tap0.device(), tap0.scalar_type()).view({1});
  return torch::clamp(F::conv2d(tap0, w, F::Conv2dFuncOptions().bias(b)), 0, 1).squeeze(1);
}

CprBank assemble_bank(const CprTrainFeatures& f, const torch::Tensor& codebook, const torch::Tensor& feb_weight,
                      const torch::Tensor& feb_bias, const std::vector<std::string>& train_names,
                      torch::ScalarType feature_dtype) {
  if (!f.tap0.defined() || f.tap0.size(0) == 0) throw InputError("CPR bank: no training features");
  if (!codebook.defined() || codebook.dim() != 2 || codebook.size(1) != f.tap0.size(1))
    throw ModelError("CPR bank: the codebook must be [words, " + std::to_string(f.tap0.size(1)) + "]");
  CprBank bank;
  bank.input_h = f.input_h;
  bank.input_w = f.input_w;
  bank.features = {f.heads[0].to(feature_dtype).contiguous(), f.heads[1].to(feature_dtype).contiguous()};
  bank.codebook = codebook.to(torch::kCPU, torch::kFloat).contiguous();
  bank.histograms = grb_histograms(grb_codes(f.tap0, bank.codebook), bank.codebook.size(0));
  if (feb_weight.defined()) {
    bank.feb_weight = feb_weight.to(torch::kCPU, torch::kFloat).reshape({1, f.tap0.size(1), 1, 1}).contiguous();
    bank.feb_bias = feb_bias.to(torch::kCPU, torch::kFloat).reshape({1}).contiguous();
    std::vector<torch::Tensor> maps;
    for (int64_t i = 0; i < f.tap0.size(0); ++i) maps.push_back(apply_feb(f.tap0.narrow(0, i, 1), bank.feb_weight, bank.feb_bias));
    bank.foreground = torch::cat(maps).contiguous();
  }
  bank.train_names = train_names;
  bank.validate("CPR bank");
  return bank;
}

}  // namespace advad::cpr
