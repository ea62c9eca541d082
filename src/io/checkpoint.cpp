#include "io/checkpoint.h"

#include <filesystem>
#include <torch/types.h>
#include <torch/utils.h>  // NoGradGuard

#include "core/error.h"

namespace fs = std::filesystem;

namespace advad {

void put_copy(StateDict& sd, const std::string& key, const torch::Tensor& t) {
  sd.keys.push_back(key);
  sd.tensors[key] = t.detach().to(torch::kCPU).clone();
}

void put_meta(StateDict& sd, const std::string& name, int64_t value) {
  put_copy(sd, "meta." + name, torch::tensor({value}, torch::kInt64));
}

void save_checkpoint(const StateDict& sd, const std::string& path) {
  std::error_code ec;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  save_state_dict(sd, tmp);
  fs::rename(tmp, path, ec);
  if (ec) throw ModelError("cannot write checkpoint " + path + ": " + ec.message());
}

StateDict load_checkpoint(const std::string& path) {
  if (!fs::exists(path))
    throw ModelError("no checkpoint at " + path + " to resume from; run without --resume to start afresh");
  return load_state_dict(path);
}

int64_t checkpoint_meta(const StateDict& sd, const std::string& name) { return sd.at("meta." + name).item<int64_t>(); }

void expect_meta(const StateDict& sd, const std::string& name, int64_t want, const std::string& what) {
  const int64_t got = checkpoint_meta(sd, name);
  if (got != want)
    throw ModelError(sd.source + ": the checkpoint was made with " + what + " " + std::to_string(got) +
                     ", this run has " + std::to_string(want) +
                     "; resume with the same profile and flags, or start afresh without --resume");
}

long checkpoint_step(const StateDict& sd, long total) {
  const long step = checkpoint_meta(sd, "step");
  if (step < 0 || step > total) throw ModelError(sd.source + ": step " + std::to_string(step) + " is out of range");
  return step;
}

void restore_tensors(const StateDict& sd, const std::string& prefix,
                     const std::vector<std::pair<std::string, torch::Tensor>>& targets, const std::string& hint) {
  torch::NoGradGuard ng;
  for (const auto& [k, t] : targets) {
    const torch::Tensor& v = sd.at(prefix + k);
    if (!v.sizes().equals(t.sizes()))
      throw ModelError(sd.source + ": '" + prefix + k + "' has shape " + c10::str(v.sizes()) + ", the model has " +
                       c10::str(t.sizes()) + "; " + hint);
    torch::Tensor target = t;
    target.copy_(v);
  }
}

}  // namespace advad
