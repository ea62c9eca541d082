// PLACEHOLDER: replaced by the real INP-Former backend.
#include "core/error.h"
#include "core/model.h"
namespace advad {
std::unique_ptr<Model> create_inpformer_model(const Profile& p, const ModelOptions&) {
  throw ModelError(p.path + ": method inpformer is not built into this advad yet");
}
}  // namespace advad
