// The sanitizer build links no model backends (they need LibTorch's kernels);
// the profile tests check method names against the registry, so the three
// names are registered here without a factory (nothing here creates a model).
#include "core/backend_registry.h"

namespace {
const bool registered = [] {
  for (const char* m : {"cpr", "inpformer", "torchscript"}) advad::register_backend(advad::Backend{m, "", false, nullptr});
  return true;
}();
}  // namespace
