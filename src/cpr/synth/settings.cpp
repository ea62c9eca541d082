// The synthesis keys of a profile's [train] group (see synth.h).
#include <sstream>

#include "core/error.h"
#include "core/profile_reader.h"
#include "cpr/model/settings.h"
#include "cpr/synth/synth.h"

namespace advad::cpr {
namespace {

// "lo-hi" with 0 < lo <= hi.
bool parse_range(const std::string& v, std::pair<double, double>& out) {
  // The separator is the '-' after the first character (lo itself is positive).
  const auto dash = v.find('-', 1);
  if (dash == std::string::npos) return false;
  try {
    const double lo = ProfileGroup::parse_number(ProfileGroup::trim(v.substr(0, dash)), 0.0, 1e300, Bound::LowOpen);
    const double hi = ProfileGroup::parse_number(ProfileGroup::trim(v.substr(dash + 1)), lo, 1e300);
    out = {lo, hi};
    return true;
  } catch (const ProfileError&) {
    return false;
  }
}

}  // namespace

const std::vector<std::string>& synth_setting_keys() {
  static const std::vector<std::string> keys = {"synth", "synth_size", "anomaly_ratio",
                                                "textures", "defects", "defect_scales"};
  return keys;
}

SynthSettings parse_synth_settings(const Profile& profile, const std::map<std::string, std::string>& overrides) {
  const ProfileGroup g = ProfileGroup::of(profile, "train", overrides);
  SynthSettings s;
  s.object = parse_cpr_settings(profile).foreground;
  s.mode = g.choice("synth", s.mode, {{"perlin", SynthMode::Perlin}, {"cutpaste", SynthMode::CutPaste},
                                      {"both", SynthMode::Both}});
  s.size = g.integer("synth_size", s.size, 32, 8192);
  s.anomaly_ratio = g.number("anomaly_ratio", s.anomaly_ratio, 0.0, 1.0);
  // Profile paths are relative to the profile's folder, command-line ones to the working directory.
  s.textures = g.path("textures");
  s.defects = g.path("defects");
  g.with("defect_scales", [&](const std::string& v) {
    std::stringstream ss(v);
    const std::string accepted = "bad value '" + v +
                                 "'; accepted: comma-separated name:lo-hi with 0 < lo <= hi, e.g. "
                                 "hair:0.05-0.2,screw:0.05-0.1 ('*' = sub-folders not listed)";
    for (std::string item; std::getline(ss, item, ',');) {
      item = ProfileGroup::trim(item);
      if (item.empty()) continue;
      const auto colon = item.find(':');
      std::pair<double, double> r;
      if (colon == std::string::npos || colon == 0 || !parse_range(ProfileGroup::trim(item.substr(colon + 1)), r))
        throw ProfileError(accepted);
      const std::string name = ProfileGroup::trim(item.substr(0, colon));
      if (name == "*") s.default_scale = r;
      else s.defect_scales[name] = r;
    }
  });
  if (s.mode != SynthMode::Perlin && s.defects.empty())
    g.fail("synth", "'" + g.string("synth") +
                        "' needs [train] defects = <folder of defect sub-folders>; accepted: perlin, or cutpaste | "
                        "both with defects set");
  return s;
}

}  // namespace advad::cpr
