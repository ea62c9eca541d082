// PLACEHOLDER: replaced by the real CPR backend.
#include "core/error.h"
#include "core/model.h"
namespace advad {
std::unique_ptr<Model> create_cpr_model(const Profile& p, const ModelOptions&) {
  throw ModelError(p.path + ": method cpr is not built into this advad yet");
}
}  // namespace advad
