// Writing an advad CPR package from a network and the category's training
// images: features -> GRB codebook (k-means, or the official one) -> FEB
// (fitted or official; objects) -> bank ->
// <out>/weights.pth + bank.bin + profile.ini. Shared by `advad import cpr`
// (official weights) and `advad train` (freshly trained heads).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include <torch/types.h>

#include "core/profile.h"
#include "cpr/bank/bank.h"
#include "cpr/bank/feb_fit.h"
#include "cpr/model/network.h"
#include "cpr/model/settings.h"

namespace advad::cpr {

struct PackageBuildOptions {
  int size = 320;                          // network input side
  int batch = 4;                           // images per network pass
  torch::Device device = torch::kCPU;      // where the features are computed
  torch::ScalarType bank_dtype = torch::kFloat;
  uint64_t seed = 66;                      // k-means sampling (codebook, FEB)
  // Official fitted branches (cpr/bank/official_branches.h) used as they are
  // instead of fitting; undefined = fit here. The refs are only compared with
  // the histograms of the training images (result.grb_refs_max_diff).
  torch::Tensor codebook;                  // [words, 256]
  torch::Tensor grb_refs;                  // [N, 25, words+1]
  torch::Tensor feb_weight, feb_bias;      // [1, 256, 1, 1], [1]; used with settings.foreground on
  // (stage, done, total): stages "read images", "features" (0 of N when the
  // stage starts, then per image / batch), then "codebook" and "foreground"
  // (0 of 1 when starting, 1 of 1 when done; "foreground" only with
  // settings.foreground on); called as work progresses.
  std::function<void(const std::string&, int64_t, int64_t)> progress;
};

struct PackageBuildResult {
  std::string profile_path, weights_path, bank_path;
  int64_t images = 0, bank_bytes = 0, bank_bytes_per_image = 0;
  FebFit feb;  // found=false when foreground is off or the fit found none
  bool codebook_given = false, feb_given = false;  // taken from the options instead of fitted
  // Max |histogram - grb_refs| over the training images when their counts
  // agree; -1 when not compared (no refs, or a different number of images).
  double grb_refs_max_diff = -1;
};

// train_dir: folder of defect-free images (searched recursively, sorted).
// profile: base profile (method/category/input set by the caller or here);
// settings.foreground on -> the FEB is fitted (fallback weight 1 with
// result.feb.found = false). Throws InputError (no images, unreadable image)
// or ModelError.
PackageBuildResult write_cpr_package(CprNetworkImpl& net, const std::string& train_dir, Profile profile,
                                     CprSettings settings, const PackageBuildOptions& options,
                                     const std::string& out_dir);

}  // namespace advad::cpr
