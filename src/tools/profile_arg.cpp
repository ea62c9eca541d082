#include "tools/profile_arg.h"

#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/profile.h"
#include "data/package_paths.h"
#include "tools/cli.h"

namespace fs = std::filesystem;

namespace advad::tools {

std::string resolve_profile_path(const std::string& arg, const std::string& command) {
  const fs::path given(arg);
  std::error_code ec;
  if (fs::is_directory(given, ec)) {
    const fs::path ini = given / "profile.ini";
    if (!fs::exists(ini))
      throw InputError(arg + " is a folder without profile.ini; give a profile (.ini) or a model package folder");
    return ini.string();
  }
  const Profile source = load_profile(arg, /*check_model_file=*/false);
  bool differ = false;
  const fs::path pkg = package_profile_path(source, &differ);
  if (pkg.empty()) return arg;
  if (differ)
    cli::warn(command, arg + " and its package profile " + pkg.string() +
                           " hold different [threshold] values; the package's are used (it is the one profile "
                           "the elements and advad calibrate --write use)");
  // Said even with --quiet: which file is read (and written by calibrate --write) is not progress.
  std::cerr << "advad " << command << ": using the package profile " << pkg.lexically_normal().string()
            << " (model of " << arg << ")\n";
  return pkg.lexically_normal().string();
}

}  // namespace advad::tools
