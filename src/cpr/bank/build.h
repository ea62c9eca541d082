// Building a CprBank from training images: one network pass per image gives
// the normalised head features (the bank) and the raw denseblock1 features
// (what the GRB codebook and the FEB are fitted on, and what the training
// images' histograms and foreground maps are computed from).
//
// The fitting itself (k-means codebook, FEB LDA) lives in the fit_* files;
// assemble_bank only applies the fitted codebook / FEB.
#pragma once
#include <functional>
#include <string>
#include <vector>
#include <torch/types.h>

#include "cpr/bank/bank.h"
#include "cpr/model/network.h"

namespace advad::cpr {

struct CprTrainFeatures {
  torch::Tensor tap0;                  // [N,256,H/4,W/4] float32 on the CPU (denseblock1, raw)
  std::array<torch::Tensor, 2> heads;  // [N,D,H/4,W/4], [N,D,H/8,W/8] L2-normalised, float32 on the CPU
  int64_t input_h = 0, input_w = 0;
};

// Called after each batch with (images done, total).
using ProgressFn = std::function<void(int64_t, int64_t)>;

// Runs net (eval, no grad) over images ([3,H,W] normalised each, all the same
// size) in batches on device. Throws InputError when images is empty or the
// sizes differ.
CprTrainFeatures extract_train_features(CprNetworkImpl& net, const std::vector<torch::Tensor>& images,
                                        const torch::Device& device, int batch = 4, const ProgressFn& progress = {});

// FEB output for denseblock1 features [B,256,h,w]: clamp(conv1x1, 0, 1) -> [B,h,w] float32.
torch::Tensor apply_feb(const torch::Tensor& tap0, const torch::Tensor& feb_weight, const torch::Tensor& feb_bias);

// Bank from extracted features, a fitted codebook [words,256] and an optional
// FEB (undefined tensors = no foreground branch, e.g. when the FEB fit found
// no foreground: then the map is not foreground-weighted). feature_dtype: how
// the features are stored (kFloat / kHalf).
CprBank assemble_bank(const CprTrainFeatures& features, const torch::Tensor& codebook, const torch::Tensor& feb_weight,
                      const torch::Tensor& feb_bias, const std::vector<std::string>& train_names,
                      torch::ScalarType feature_dtype = torch::kFloat);

}  // namespace advad::cpr
