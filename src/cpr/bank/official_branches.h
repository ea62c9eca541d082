// The official CPR release's fitted branches, used as they are instead of
// being refitted: grb.pth (torch.save of a GlobalRetrievalBranch, written by
// tools/generate_retrieval.py) and feb.pth (torch.save of a
// ForegroundEstimateBranch, tools/generate_foreground.py). Both are pickled
// modules, read as data by io/pickled_module.h.
#pragma once
#include <string>
#include <torch/types.h>

namespace advad::cpr {

struct OfficialGrb {
  torch::Tensor codebook;  // [words, C] float32: the k-means centres
  torch::Tensor refs;      // [N, S*S, words+1] float32: the official training images' block histograms
};

struct OfficialFeb {
  torch::Tensor weight;  // [1, C, 1, 1] float32: LDA direction over the min-max range
  torch::Tensor bias;    // [1] float32
};

// channels: the denseblock1 width (256). Throw ModelError naming the file and
// what was expected: unreadable / truncated file, a state dict, the other
// branch's file, wrong shapes, a GRB advad's retrieval does not implement
// (not S=5, l_ratio 0.8, KL), non-finite values.
OfficialGrb load_official_grb(const std::string& path, int64_t channels = 256);
OfficialFeb load_official_feb(const std::string& path, int64_t channels = 256);

}  // namespace advad::cpr
