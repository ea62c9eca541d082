#include "cpr/cpr_settings.h"

#include <filesystem>
#include <sstream>

#include "core/error.h"

namespace advad::cpr {
namespace {

[[noreturn]] void bad(const Profile& p, const std::string& key, const std::string& value, const std::string& accepted) {
  throw ProfileError((p.path.empty() ? std::string("<profile>") : p.path) + ": [cpr] " + key + " = '" + value +
                     "' is invalid; accepted: " + accepted);
}

int parse_int(const Profile& p, const std::string& key, const std::string& v, int lo, int hi,
              const std::string& accepted) {
  try {
    size_t used = 0;
    const long x = std::stol(v, &used);
    if (used != v.size() || x < lo || x > hi) bad(p, key, v, accepted);
    return static_cast<int>(x);
  } catch (const std::logic_error&) {
    bad(p, key, v, accepted);
  }
}

bool parse_switch(const Profile& p, const std::string& key, const std::string& v) {
  if (v == "on" || v == "true" || v == "yes" || v == "1") return true;
  if (v == "off" || v == "false" || v == "no" || v == "0") return false;
  bad(p, key, v, "on | off");
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

const std::vector<std::string>& cpr_setting_keys() {
  static const std::vector<std::string> keys = {"k",     "region_sizes", "foreground", "top_t",
                                                "blur",  "blur_ksize",   "blur_sigma", "backbone_weights",
                                                "bank_dtype"};
  return keys;
}

CprSettings parse_cpr_settings(const Profile& p) {
  CprSettings s;
  auto it = p.method_groups.find("cpr");
  if (it == p.method_groups.end()) return s;
  for (const auto& [key, raw] : it->second) {
    const std::string v = trim(raw);
    if (key == "k") {
      s.k = parse_int(p, key, v, 1, 100000, "an integer >= 1 (training images retrieved per query)");
    } else if (key == "region_sizes") {
      std::stringstream ss(v);
      std::string item;
      std::vector<int> r;
      while (std::getline(ss, item, ',')) r.push_back(parse_int(p, key, trim(item), 1, 99, "two odd integers, e.g. 3,1"));
      if (r.size() != 2 || r[0] % 2 == 0 || r[1] % 2 == 0) bad(p, key, v, "two odd integers (stride 4, stride 8), e.g. 3,1");
      s.region_sizes = {r[0], r[1]};
    } else if (key == "foreground") {
      s.foreground = parse_switch(p, key, v);
    } else if (key == "top_t") {
      s.top_t = parse_int(p, key, v, 1, 1 << 30, "an integer >= 1 (pixels summed for the image score)");
    } else if (key == "blur") {
      s.blur = parse_switch(p, key, v);
    } else if (key == "blur_ksize") {
      s.blur_ksize = parse_int(p, key, v, 1, 999, "an odd integer >= 1");
      if (s.blur_ksize % 2 == 0) bad(p, key, v, "an odd integer >= 1");
    } else if (key == "blur_sigma") {
      try {
        size_t used = 0;
        s.blur_sigma = std::stod(v, &used);
        if (used != v.size() || !(s.blur_sigma > 0)) bad(p, key, v, "a number > 0");
      } catch (const std::logic_error&) {
        bad(p, key, v, "a number > 0");
      }
    } else if (key == "backbone_weights") {
      namespace fs = std::filesystem;
      if (!v.empty()) {
        fs::path path(v);
        if (path.is_relative() && !p.path.empty()) path = fs::path(p.path).parent_path() / path;
        s.backbone_weights = path.lexically_normal().string();
      }
    } else if (key == "bank_dtype") {
      if (v == "fp32") s.bank_dtype = torch::kFloat;
      else if (v == "fp16") s.bank_dtype = torch::kHalf;
      else bad(p, key, v, "fp32 | fp16");
    } else {
      std::string accepted;
      for (const auto& k : cpr_setting_keys()) accepted += (accepted.empty() ? "" : ", ") + k;
      throw ProfileError((p.path.empty() ? std::string("<profile>") : p.path) + ": [cpr] unknown key '" + key +
                         "'; accepted keys: " + accepted);
    }
  }
  return s;
}

void store_cpr_settings(const CprSettings& s, Profile& p) {
  auto& g = p.method_groups["cpr"];
  g["k"] = std::to_string(s.k);
  g["region_sizes"] = std::to_string(s.region_sizes[0]) + "," + std::to_string(s.region_sizes[1]);
  g["foreground"] = s.foreground ? "on" : "off";
  g["top_t"] = std::to_string(s.top_t);
  g["blur"] = s.blur ? "on" : "off";
  g["blur_ksize"] = std::to_string(s.blur_ksize);
  std::ostringstream sig;
  sig << s.blur_sigma;
  g["blur_sigma"] = sig.str();
  if (!s.backbone_weights.empty()) g["backbone_weights"] = s.backbone_weights;
  g["bank_dtype"] = s.bank_dtype == torch::kHalf ? "fp16" : "fp32";
}

}  // namespace advad::cpr
