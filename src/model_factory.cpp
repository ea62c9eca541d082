// create_model: picks the backend the profile names. Lives outside core so
// that core builds without the model libraries.
#include "core/error.h"
#include "core/model.h"

namespace advad {

std::unique_ptr<Model> create_model(const Profile& profile, const ModelOptions& options) {
  configure_runtime(options.threads);
  switch (profile.method) {
    case Method::InpFormer:
      return create_inpformer_model(profile, options);
    case Method::Cpr:
      return create_cpr_model(profile, options);
    case Method::TorchScript:
      return create_torchscript_model(profile, options);
  }
  throw ProfileError(profile.path + ": unknown method");
}

}  // namespace advad
