// Which profile file a command reads for the profile argument the user gave.
#pragma once
#include <string>

namespace advad::tools {

// A model package is self-contained: its profile.ini is the one profile that
// counts (model, tiling, thresholds; `advad calibrate --write` writes there).
//  - a package folder            -> <folder>/profile.ini
//  - a profile whose model is a package folder with its own profile.ini
//                                -> that package profile.ini, with a note naming
//                                   it (and a warning when the two files'
//                                   thresholds differ: the package's are used)
//  - anything else               -> the argument itself
// InputError naming the folder when a folder holds no profile.ini.
std::string resolve_profile_path(const std::string& arg, const std::string& command);

}  // namespace advad::tools
