#include "engine/model_factory.h"

#include "core/backend_registry.h"
#include "core/error.h"

namespace advad {

std::unique_ptr<Model> create_model(const Profile& profile, const ModelOptions& options) {
  const Backend* backend = find_backend(profile.method);
  if (!backend)
    throw ProfileError((profile.path.empty() ? std::string("profile") : profile.path) + ": [profile] method '" +
                       profile.method + "' has no backend in this build; accepted: " + backend_methods_text());
  configure_runtime(options.threads);
  return backend->create(profile, options);
}

}  // namespace advad
