// Reading the data.pkl of a torch.save zip archive with its tensors rebuilt
// from the archive's storages (any location tag; all on the CPU). Internal to
// src/io, shared by the state-dict reader (state_dict.h) and the pickled-module
// reader (pickled_module.h): each decides which other Python globals it
// accepts and what calling them makes.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>
#include <torch/types.h>

#include "io/pickle.h"

namespace advad::torch_archive {

// Legacy typed-storage class names (torch.<Name>) <-> dtypes, as persistent ids carry them.
const std::vector<std::pair<std::string, torch::ScalarType>>& storage_types();

// What to do with the globals beyond the tensor machinery (storages,
// _rebuild_tensor_v2, _rebuild_parameter[_with_state], OrderedDict, set).
struct OtherGlobals {
  // Return a Global value, or throw ModelError naming the global.
  std::function<pickle::ValuePtr(const std::string& module, const std::string& name)> find_class;
  // REDUCE / NEWOBJ of such a global.
  std::function<pickle::ValuePtr(const pickle::ValuePtr& callable, const pickle::ValuePtr& args)> call;
  // BUILD on any object (default: keep the object, drop the state).
  std::function<pickle::ValuePtr(const pickle::ValuePtr& object, const pickle::ValuePtr& state)> build;
};

// Unpickles path's data.pkl. Throws ModelError starting with path: missing,
// empty or truncated file, legacy non-zip format, TorchScript archive,
// malformed pickle, missing or short storage records.
pickle::ValuePtr load(const std::string& path, const OtherGlobals& other);

// Message helpers shared by the readers built on this one (state_dict).
std::string shape_str(c10::IntArrayRef shape);  // "[2, 3]"
std::string first_line(const std::string& s);   // a LibTorch message without its backtrace
bool starts_with(const std::string& s, const std::string& prefix);

}  // namespace advad::torch_archive
