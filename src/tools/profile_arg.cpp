#include "tools/profile_arg.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "core/profile.h"
#include "core/profile_reader.h"
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

std::string set_ini_value(const std::string& text, const std::string& group, const std::string& key,
                          const std::string& value) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  const auto trim = ProfileGroup::trim;
  int header = -1, end = static_cast<int>(lines.size()), last_key = -1;
  for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
    const std::string t = trim(lines[static_cast<size_t>(i)]);
    if (!t.empty() && t[0] == '[') {
      if (header >= 0) {
        end = i;
        break;
      }
      if (t == "[" + group + "]") header = i;
      continue;
    }
    if (header < 0 || t.empty() || t[0] == '#') continue;
    last_key = i;
    const auto eq = t.find('=');
    if (eq != std::string::npos && trim(t.substr(0, eq)) == key) {
      lines[static_cast<size_t>(i)] = key + " = " + value;
      header = -2;  // done
      break;
    }
  }
  if (header >= 0) {
    const int at = last_key >= 0 ? last_key + 1 : header + 1;
    lines.insert(lines.begin() + std::min(at, end), key + " = " + value);
  } else if (header == -1) {
    if (!lines.empty() && !trim(lines.back()).empty()) lines.push_back("");
    lines.push_back("[" + group + "]");
    lines.push_back(key + " = " + value);
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string remove_ini_group(const std::string& text, const std::string& group) {
  std::stringstream ss(text);
  std::string out;
  bool inside = false;
  for (std::string l; std::getline(ss, l);) {
    const std::string t = ProfileGroup::trim(l);
    if (!t.empty() && t[0] == '[') inside = t == "[" + group + "]";
    if (!inside) out += l + "\n";
  }
  return out;
}

void edit_profile_file(const std::string& path, const std::vector<IniEdit>& edits,
                       const std::vector<std::string>& drop) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  for (const auto& g : drop) text = remove_ini_group(text, g);
  for (const auto& e : edits) text = set_ini_value(text, e.group, e.key, e.value);
  const fs::path tmp = fs::path(path).parent_path() / (".tmp_" + fs::path(path).filename().string());
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw InputError("cannot write " + tmp.string() + ": check that the profile's folder is writable");
  }
  try {
    load_profile(tmp.string(), /*check_model_file=*/false);
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  fs::rename(tmp, path);
}

}  // namespace advad::tools
