// One loaded model per (profile, model files, device, precision) in a
// process: elements and commands that ask for the same one share it, so a
// second camera on the same package costs no second copy of the weights or
// the CPR bank. The cache holds models weakly: the last user frees them.
#pragma once
#include <memory>
#include <string>

#include "core/model.h"
#include "core/profile.h"

namespace advad {

struct LoadedModel {
  std::shared_ptr<const Profile> profile;  // the profile it was built from
  std::shared_ptr<Model> model;            // scoring calls from several threads are serialised
  std::string identity;                    // "<model path>@<first 12 hex digits of SHA-256 of its files>"
  double load_seconds = 0;                 // building it (by the call that built it)
};

// The shared model for this profile and options: from the cache (then
// *from_cache = true, when given), or built with create_model. Throws what
// create_model throws.
std::shared_ptr<const LoadedModel> acquire_model(std::shared_ptr<const Profile> profile, const ModelOptions& options,
                                                 bool* from_cache = nullptr);

// Models alive in the cache now (tests and stats).
size_t cached_model_count();

// "<path>@<hash>": the profile file and every file of the model (a package
// folder's files, sorted) hashed with SHA-256; digests are remembered per
// (path, size, modification time), so a second call costs no reading.
std::string model_identity(const Profile& profile);

}  // namespace advad
