// create_model: the profile's model, built by the backend registered for its
// method (core/backend_registry.h). Elements and commands that share models
// go through engine/model_cache.h instead.
#pragma once
#include <memory>

#include "core/model.h"
#include "core/profile.h"

namespace advad {

// Sets the CPU threads (configure_runtime) and builds the model. Throws
// ProfileError for a method no backend of this build has (naming the profile
// and the methods there are), else what the backend throws (ModelError /
// ProfileError naming the file and what to do).
std::unique_ptr<Model> create_model(const Profile& profile, const ModelOptions& options);

}  // namespace advad
