// The model backends of this build, by the `method` name profiles use. Each
// backend registers itself from its own model file (ADVAD_REGISTER_BACKEND),
// so adding one touches no list or switch elsewhere: the profile reader checks
// method names here, create_model (engine/model_factory.h) builds from here and
// precision=auto asks here whether a backend has a bf16 path.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/profile.h"

namespace advad {

// Declared only: the registry stores and looks up backends without LibTorch's
// headers, so the profile reader builds torch-free (the sanitizer build, issue
// 18). Callers of create include core/model.h.
class Model;
struct ModelOptions;

struct Backend {
  std::string method;    // the [profile] method value, e.g. "inpformer"
  std::string summary;   // one line for --help texts and errors
  bool auto_bf16 = false;  // precision=auto may pick bf16 (the backend has a measured bf16 path)
  std::function<std::unique_ptr<Model>(const Profile&, const ModelOptions&)> create;
};

// Adds a backend; a second one with the same method replaces nothing and is
// reported on stderr (two files claiming one name is a build mistake).
bool register_backend(Backend backend);

// The backend of this method name, or nullptr.
const Backend* find_backend(const std::string& method);

// Registered method names, sorted ("cpr | inpformer | torchscript" in messages).
std::vector<std::string> backend_methods();
std::string backend_methods_text();

}  // namespace advad

// Registers a backend when the library holding this file is loaded.
#define ADVAD_REGISTER_BACKEND(id, ...) \
  static const bool advad_backend_registered_##id = ::advad::register_backend(__VA_ARGS__)
