// Reading a whole pickled torch.nn.Module (`torch.save(module, path)`, not its
// state_dict()) without Python, as data: each module's class name, its
// parameters, buffers, submodules and plain number / string attributes.
// Nothing is executed: a class is only a recorded name, so modules of any
// Python package (e.g. the official CPR grb.pth / feb.pth) can be read.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <torch/types.h>

namespace advad {

struct PickledModule {
  std::string type;    // Python class, "module.Class" (e.g. "torch.nn.modules.conv.Conv2d")
  std::string source;  // file it came from, for messages
  std::string name;    // dotted path from the root ("" for the root itself)
  std::map<std::string, torch::Tensor> parameters, buffers;  // None entries left out; on the CPU
  std::map<std::string, std::shared_ptr<const PickledModule>> children;
  std::map<std::string, double> numbers;       // int, float and bool attributes
  std::map<std::string, std::string> strings;  // str attributes

  // The class name without its module ("Conv2d").
  std::string class_name() const;
  // Throw ModelError naming the file, this module and what is missing.
  const PickledModule& child(const std::string& key) const;
  const torch::Tensor& tensor(const std::string& key) const;  // a parameter or a buffer
};

// Throws ModelError starting with path when the file is unreadable or holds
// something else than a pickled module (a state dict: says so).
PickledModule load_pickled_module(const std::string& path);

}  // namespace advad
