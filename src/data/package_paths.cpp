#include "data/package_paths.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace advad {

std::string package_profile_path(const Profile& profile, bool* thresholds_differ) {
  if (thresholds_differ) *thresholds_differ = false;
  std::error_code ec;
  if (profile.model.empty() || !fs::is_directory(profile.model, ec)) return "";
  const fs::path pkg = fs::path(profile.model) / "profile.ini";
  if (!fs::exists(pkg, ec) || (!profile.path.empty() && fs::equivalent(pkg, fs::path(profile.path), ec))) return "";
  if (thresholds_differ) {
    const Profile package = load_profile(pkg.string(), /*check_model_file=*/false);
    *thresholds_differ =
        package.threshold != profile.threshold || package.split_thresholds != profile.split_thresholds;
  }
  return pkg.lexically_normal().string();
}

const std::vector<std::string>& train_path_keys() {
  static const std::vector<std::string> keys = {"data", "encoder_weights", "backbone_weights", "init", "textures",
                                                "defects"};
  return keys;
}

void rebase_train_paths(Profile& p, const std::string& from_dir, const std::string& package_dir) {
  auto g = p.method_groups.find("train");
  if (g == p.method_groups.end()) return;
  const fs::path from = fs::absolute(from_dir.empty() ? fs::path(".") : fs::path(from_dir)).lexically_normal();
  const fs::path pkg = fs::absolute(package_dir).lexically_normal();
  for (const auto& key : train_path_keys()) {
    auto it = g->second.find(key);
    if (it == g->second.end() || it->second.empty() || it->second == "random") continue;
    fs::path v(it->second);
    if (v.is_relative()) v = from / v;
    const fs::path rel = v.lexically_normal().lexically_relative(pkg);
    if (!rel.empty()) it->second = rel.generic_string();
  }
}

}  // namespace advad
