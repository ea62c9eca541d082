// Which profile file a command reads for the profile argument the user gave.
#pragma once
#include <string>
#include <vector>

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

// Replaces or adds `key = value` in the ini text's [group] (the group is added
// at the end when missing); every other line is kept as it is.
std::string set_ini_value(const std::string& text, const std::string& group, const std::string& key,
                          const std::string& value);

// Removes [group] and its lines (up to the next group header); a comment block
// directly above the header stays. The text unchanged when there is no such group.
std::string remove_ini_group(const std::string& text, const std::string& group);

struct IniEdit {
  std::string group, key, value;
};
// Drops the groups in `drop`, then applies the edits, to the profile file
// through a temporary copy that must load (load_profile) before it replaces
// the file: never a profile that does not load.
void edit_profile_file(const std::string& path, const std::vector<IniEdit>& edits,
                       const std::vector<std::string>& drop = {});

}  // namespace advad::tools
