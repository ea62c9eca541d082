#include "tools/profile_arg.h"

#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/profile.h"
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
  const fs::path model(source.model);
  if (source.model.empty() || !fs::is_directory(model, ec)) return arg;
  const fs::path pkg = model / "profile.ini";
  if (!fs::exists(pkg, ec) || fs::equivalent(pkg, fs::path(source.path), ec)) return arg;
  const Profile package = load_profile(pkg.string(), /*check_model_file=*/false);
  if (package.threshold != source.threshold || package.split_thresholds != source.split_thresholds)
    cli::warn(command, arg + " and its package profile " + pkg.string() +
                           " hold different [threshold] values; the package's are used (it is the one profile "
                           "the elements and advad calibrate --write use)");
  // Said even with --quiet: which file is read (and written by calibrate --write) is not progress.
  std::cerr << "advad " << command << ": using the package profile " << pkg.lexically_normal().string()
            << " (model of " << arg << ")\n";
  return pkg.lexically_normal().string();
}

}  // namespace advad::tools
