#include "cpr/bank/official_branches.h"

#include <cmath>
#include <torch/torch.h>

#include "core/error.h"
#include "cpr/model/grb.h"
#include "io/pickled_module.h"

namespace advad::cpr {

namespace {

const char* kGrbWhat =
    "expected the official CPR grb.pth: torch.save of a GlobalRetrievalBranch, as tools/generate_retrieval.py writes "
    "it (log/retrieval_*/<category>/grb.pth)";
const char* kFebWhat =
    "expected the official CPR feb.pth: torch.save of a ForegroundEstimateBranch, as tools/generate_foreground.py "
    "writes it (log/foreground_*/<category>/feb.pth)";

// The module, with every failure to read it ending in what the file should be.
PickledModule load_branch(const std::string& path, const std::string& want_class, const char* what) {
  PickledModule m;
  try {
    m = load_pickled_module(path);
  } catch (const ModelError& e) {
    throw ModelError(std::string(e.what()) + "; " + what);
  }
  if (m.class_name() != want_class) {
    std::string hint;
    if (m.class_name() == "GlobalRetrievalBranch") hint = " (this is a grb.pth: give it as --grb)";
    if (m.class_name() == "ForegroundEstimateBranch") hint = " (this is a feb.pth: give it as --feb)";
    throw ModelError(path + ": holds a " + m.type + hint + "; " + what);
  }
  return m;
}

std::string shape_of(const torch::Tensor& t) { return c10::str(t.sizes()); }

torch::Tensor checked(const torch::Tensor& t, const std::string& path, const std::string& key, const char* what) {
  if (!t.is_floating_point())
    throw ModelError(path + ": '" + key + "' is " + std::string(c10::toString(t.scalar_type())) + ", not floating point; " + what);
  auto f = t.to(torch::kFloat).contiguous().clone();
  if (!torch::isfinite(f).all().item<bool>()) throw ModelError(path + ": '" + key + "' holds NaN or Inf; " + what);
  return f;
}

}  // namespace

OfficialGrb load_official_grb(const std::string& path, int64_t channels) {
  const PickledModule m = load_branch(path, "GlobalRetrievalBranch", kGrbWhat);
  try {
    const torch::Tensor& centres = m.child("codebook").tensor("cluster_centers");
    if (centres.dim() != 5 || centres.size(0) != 1 || centres.size(1) < 1 || centres.size(2) != channels ||
        centres.size(3) != 1 || centres.size(4) != 1)
      throw ModelError(path + ": codebook.cluster_centers has shape " + shape_of(centres) + ", expected [1, words, " +
                       std::to_string(channels) + ", 1, 1] (words k-means centres of the denseblock1 features)");
    OfficialGrb g;
    g.codebook = checked(centres, path, "codebook.cluster_centers", kGrbWhat).view({centres.size(1), channels});
    const int64_t words = g.codebook.size(0), blocks = int64_t(kGrbGrid) * kGrbGrid;
    const torch::Tensor& refs = m.tensor("refs");
    if (refs.dim() != 3 || refs.size(0) < 1 || refs.size(1) != blocks || refs.size(2) != words + 1)
      throw ModelError(path + ": refs has shape " + shape_of(refs) + ", expected [training images, " +
                       std::to_string(blocks) + ", " + std::to_string(words + 1) +
                       "] (block histograms; was the bank set, as get_grb does?)");
    g.refs = checked(refs, path, "refs", kGrbWhat);
    // What advad's retrieval implements (cpr/model/grb.h); another GRB would rank differently.
    auto d = m.strings.find("d_method");
    if (d != m.strings.end() && d->second != "kl")
      throw ModelError(path + ": d_method is '" + d->second + "'; advad's global retrieval implements 'kl' only");
    auto l = m.numbers.find("l_ratio");
    if (l != m.numbers.end() && std::abs(l->second - kGrbKeepRatio) > 1e-9)
      throw ModelError(path + ": l_ratio is " + std::to_string(l->second) + "; advad's global retrieval uses " +
                       std::to_string(kGrbKeepRatio));
    return g;
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    if (msg.find(kGrbWhat) != std::string::npos) throw;
    throw ModelError(msg + "; " + kGrbWhat);
  }
}

OfficialFeb load_official_feb(const std::string& path, int64_t channels) {
  const PickledModule m = load_branch(path, "ForegroundEstimateBranch", kFebWhat);
  try {
    const PickledModule& conv = m.child("conv1x1");
    const torch::Tensor& w = conv.tensor("weight");
    const torch::Tensor& b = conv.tensor("bias");
    if (w.dim() != 4 || w.size(0) != 1 || w.size(1) != channels || w.size(2) != 1 || w.size(3) != 1)
      throw ModelError(path + ": conv1x1.weight has shape " + shape_of(w) + ", expected [1, " +
                       std::to_string(channels) + ", 1, 1] (a 1x1 conv over the denseblock1 features)");
    if (b.numel() != 1) throw ModelError(path + ": conv1x1.bias has shape " + shape_of(b) + ", expected [1]");
    return {checked(w, path, "conv1x1.weight", kFebWhat), checked(b, path, "conv1x1.bias", kFebWhat).view({1})};
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    if (msg.find(kFebWhat) != std::string::npos) throw;
    throw ModelError(msg + "; " + kFebWhat);
  }
}

}  // namespace advad::cpr
