// Reading and writing PyTorch state dicts (`torch.save(model.state_dict())`,
// zip format) without Python. LibTorch 1.13's pickle_load rejects the
// OrderedDict that state_dict() returns and storages tagged 'cuda:0'; this
// reader handles both (a small unpickler for the subset state dicts use).
#pragma once
#include <map>
#include <string>
#include <vector>
#include <torch/nn/module.h>
#include <torch/types.h>

namespace advad {

// Ordered name -> tensor map, in file order. Tensors are on the CPU.
struct StateDict {
  std::vector<std::string> keys;
  std::map<std::string, torch::Tensor> tensors;

  bool has(const std::string& k) const { return tensors.count(k) != 0; }
  // Throws ModelError naming the file and key when missing.
  const torch::Tensor& at(const std::string& k) const;
  std::string source;  // file it came from, for messages
};

// Load a torch zip checkpoint holding a dict / OrderedDict of tensors
// (possibly nested under a top-level key such as "model" or "state_dict" is NOT
// unwrapped here). Location tags (cpu, cuda:N) are ignored: all tensors load
// on the CPU. Throws ModelError naming the file and what is wrong.
StateDict load_state_dict(const std::string& path);

// Write a state dict that both this reader and Python's torch.load can read.
void save_state_dict(const StateDict& sd, const std::string& path);

// Keep keys starting with prefix, with the prefix removed.
StateDict strip_prefix(const StateDict& sd, const std::string& prefix);

// Copy tensors into a module's parameters/buffers by name. Every parameter
// and buffer of the module must be present with the same shape, unless
// allow_missing; extra keys are an error unless allow_unexpected. The error
// names the key, the expected and the found shape.
struct LoadReport {
  std::vector<std::string> missing, unexpected;
};
LoadReport load_into(torch::nn::Module& module, const StateDict& sd, bool allow_missing = false,
                     bool allow_unexpected = false);
}  // namespace advad
