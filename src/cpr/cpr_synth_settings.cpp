// The synthesis keys of a profile's [train] group (see cpr_synth.h).
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "cpr/cpr_settings.h"
#include "cpr/cpr_synth.h"

namespace advad::cpr {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

struct Ctx {
  const Profile& p;
  const std::map<std::string, std::string>& overrides;
  [[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& accepted) const {
    const std::string where = overrides.count(key) ? " (override)" : "";
    throw ProfileError((p.path.empty() ? std::string("<profile>") : p.path) + ": [train] " + key + " = '" + value +
                       "'" + where + " is invalid; accepted: " + accepted);
  }
};

bool parse_number(const std::string& v, double& out) {
  try {
    size_t used = 0;
    out = std::stod(v, &used);
    return used == v.size() && std::isfinite(out);
  } catch (const std::logic_error&) {
    return false;
  }
}

// "lo-hi" with 0 < lo <= hi.
bool parse_range(const std::string& v, std::pair<double, double>& out) {
  // The separator is the '-' after the first character (lo itself is positive).
  const auto dash = v.find('-', 1);
  if (dash == std::string::npos) return false;
  double lo = 0, hi = 0;
  if (!parse_number(trim(v.substr(0, dash)), lo) || !parse_number(trim(v.substr(dash + 1)), hi)) return false;
  if (!(lo > 0) || !(hi >= lo)) return false;
  out = {lo, hi};
  return true;
}

std::string resolve(const Profile& p, const std::string& v) {
  namespace fs = std::filesystem;
  fs::path path(v);
  if (path.is_relative() && !p.path.empty()) path = fs::path(p.path).parent_path() / path;
  return path.lexically_normal().string();
}

}  // namespace

const std::vector<std::string>& synth_setting_keys() {
  static const std::vector<std::string> keys = {"synth", "synth_size", "anomaly_ratio",
                                                "textures", "defects", "defect_scales"};
  return keys;
}

SynthSettings parse_synth_settings(const Profile& profile, const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> values;
  if (auto it = profile.method_groups.find("train"); it != profile.method_groups.end()) values = it->second;
  for (const auto& [k, v] : overrides) values[k] = v;
  const Ctx ctx{profile, overrides};

  SynthSettings s;
  s.object = parse_cpr_settings(profile).foreground;
  for (const auto& key : synth_setting_keys()) {
    auto it = values.find(key);
    if (it == values.end()) continue;
    const std::string v = trim(it->second);
    if (key == "synth") {
      if (v == "perlin") s.mode = SynthMode::Perlin;
      else if (v == "cutpaste") s.mode = SynthMode::CutPaste;
      else if (v == "both") s.mode = SynthMode::Both;
      else ctx.bad(key, v, "perlin | cutpaste | both");
    } else if (key == "synth_size") {
      double x = 0;
      if (!parse_number(v, x) || x != std::floor(x) || x < 32 || x > 8192)
        ctx.bad(key, v, "an integer >= 32 (side of the square synthesis image, e.g. 640)");
      s.size = static_cast<int>(x);
    } else if (key == "anomaly_ratio") {
      double x = 0;
      if (!parse_number(v, x) || x < 0 || x > 1)
        ctx.bad(key, v, "a number in [0, 1] (probability that a perlin sample gets a defect)");
      s.anomaly_ratio = x;
    } else if (key == "textures") {
      s.textures = v.empty() ? "" : resolve(profile, v);
    } else if (key == "defects") {
      s.defects = v.empty() ? "" : resolve(profile, v);
    } else if (key == "defect_scales") {
      std::stringstream ss(v);
      const std::string accepted =
          "comma-separated name:lo-hi with 0 < lo <= hi, e.g. hair:0.05-0.2,screw:0.05-0.1 ('*' = sub-folders not listed)";
      for (std::string item; std::getline(ss, item, ',');) {
        item = trim(item);
        if (item.empty()) continue;
        const auto colon = item.find(':');
        std::pair<double, double> r;
        if (colon == std::string::npos || colon == 0 || !parse_range(trim(item.substr(colon + 1)), r))
          ctx.bad(key, v, accepted);
        const std::string name = trim(item.substr(0, colon));
        if (name == "*") s.default_scale = r;
        else s.defect_scales[name] = r;
      }
    }
  }
  if (s.mode != SynthMode::Perlin && s.defects.empty())
    ctx.bad("synth", s.mode == SynthMode::Both ? "both" : "cutpaste",
            "perlin, or set [train] defects = <folder of defect sub-folders> for cutpaste | both");
  return s;
}

}  // namespace advad::cpr
