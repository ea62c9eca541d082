// Paths inside a model package's profile.ini. A package must run wherever it is
// copied: its model is "." (save_profile writes it relative to the file), and
// the [train] keys that name files or folders (data, encoder_weights,
// backbone_weights, init, textures, defects) are provenance, stored relative to
// the package folder, never absolute.
#pragma once
#include <string>
#include <vector>

#include "core/profile.h"

namespace advad {

// The profile that counts for `profile`: when its model is a package folder
// holding its own profile.ini (another file), that package profile.ini —
// the package is self-contained, its thresholds are the ones used and the
// ones `advad calibrate --write` writes. Empty when `profile` itself counts.
// *thresholds_differ says whether the two files' [threshold] values differ.
std::string package_profile_path(const Profile& profile, bool* thresholds_differ = nullptr);

// The [train] keys that hold a file or folder path.
const std::vector<std::string>& train_path_keys();

// Rewrites p's [train] path keys for a profile written into package_dir:
// a relative value is taken relative to from_dir (the folder of the profile it
// came from; "" = the current folder), an absolute one as it is; each becomes
// relative to package_dir. Values that are not paths ("random", empty) stay.
void rebase_train_paths(Profile& p, const std::string& from_dir, const std::string& package_dir);

}  // namespace advad
