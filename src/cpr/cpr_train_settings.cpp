#include "cpr/cpr_train_settings.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.h"

namespace fs = std::filesystem;

namespace advad::cpr {

namespace {

std::string flag_of(const std::string& key) {
  std::string f = key;
  for (auto& c : f)
    if (c == '_') c = '-';
  return f;
}

struct Reader {
  const Profile& profile;
  const std::map<std::string, std::string>& overrides;

  std::string where(const std::string& key) const {
    if (overrides.count(key)) return "command line --" + flag_of(key);
    return (profile.path.empty() ? std::string("<profile>") : profile.path) + ": [train] " + key;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ProfileError(where(key) + ": " + msg);
  }
  const std::string* get(const std::string& key) const {
    if (auto it = overrides.find(key); it != overrides.end()) return &it->second;
    auto g = profile.method_groups.find("train");
    if (g == profile.method_groups.end()) return nullptr;
    auto it = g->second.find(key);
    return it == g->second.end() ? nullptr : &it->second;
  }
  long integer(const std::string& key, long def, long lo, long hi, const std::string& what = "") const {
    const std::string* v = get(key);
    if (!v) return def;
    const std::string accepted = "accepted: " + (what.empty() ? "" : what + ", ") + std::to_string(lo) + " .. " +
                                 std::to_string(hi);
    long x = 0;
    try {
      size_t pos = 0;
      x = std::stol(*v, &pos);
      if (pos != v->size()) throw std::invalid_argument(*v);
    } catch (const std::logic_error&) {
      fail(key, "'" + *v + "' is not an integer; " + accepted);
    }
    if (x < lo || x > hi) fail(key, "'" + *v + "' is out of range; " + accepted);
    return x;
  }
  double number(const std::string& key, double def, double lo, double hi, bool lo_open) const {
    const std::string* v = get(key);
    if (!v) return def;
    const std::string accepted =
        "accepted: a number " + std::string(lo_open ? "> " : ">= ") + std::to_string(lo) + " and <= " + std::to_string(hi);
    double x = 0;
    try {
      size_t pos = 0;
      x = std::stod(*v, &pos);
      if (pos != v->size()) throw std::invalid_argument(*v);
    } catch (const std::logic_error&) {
      fail(key, "'" + *v + "' is not a number; " + accepted);
    }
    if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo)) fail(key, "'" + *v + "' is out of range; " + accepted);
    return x;
  }
  bool boolean(const std::string& key, bool def) const {
    const std::string* v = get(key);
    if (!v) return def;
    if (*v == "true" || *v == "1" || *v == "yes" || *v == "on") return true;
    if (*v == "false" || *v == "0" || *v == "no" || *v == "off") return false;
    fail(key, "'" + *v + "' is not a boolean; accepted: true | false");
  }
  std::string path(const std::string& key) const {
    const std::string* v = get(key);
    if (!v || v->empty()) return "";
    fs::path p(*v);
    if (p.is_absolute()) return p.lexically_normal().string();
    // Command-line paths are relative to the working directory, profile paths to the profile's folder.
    fs::path base = overrides.count(key) || profile.path.empty() ? fs::current_path()
                                                                  : fs::path(profile.path).parent_path();
    return fs::absolute(base / p).lexically_normal().string();
  }
};

}  // namespace

const std::vector<std::string>& cpr_train_own_keys() {
  static const std::vector<std::string> k = {"data",   "backbone_weights", "init",   "size",
                                             "steps",  "batch",            "lr",     "weight_decay",
                                             "seed",   "k",                "points", "augment",
                                             "synth_per_image",            "checkpoint_every"};
  return k;
}

std::vector<std::string> cpr_train_keys() {
  std::vector<std::string> k = cpr_train_own_keys();
  for (const auto& s : synth_setting_keys()) k.push_back(s);
  return k;
}

std::string cpr_training_folder(const std::string& data) {
  const fs::path good = fs::path(data) / "train" / "good";
  std::error_code ec;
  return fs::is_directory(good, ec) ? good.string() : data;
}

CprTrainSettings parse_cpr_train_settings(const Profile& profile, const std::map<std::string, std::string>& overrides) {
  Reader r{profile, overrides};
  const std::vector<std::string> keys = cpr_train_keys();
  std::string accepted;
  for (const auto& k : keys) accepted += (accepted.empty() ? "" : ", ") + k;
  auto check_known = [&](const std::map<std::string, std::string>& m) {
    for (const auto& [k, v] : m)
      if (std::find(keys.begin(), keys.end(), k) == keys.end())
        r.fail(k, "unknown key (value '" + v + "'); accepted keys: " + accepted);
  };
  if (auto g = profile.method_groups.find("train"); g != profile.method_groups.end()) check_known(g->second);
  check_known(overrides);

  CprTrainSettings s;
  s.data = r.path("data");
  if (s.data.empty())
    r.fail("data", "missing; give the category folder that holds train/good (MVTec AD 2 or MVTec AD layout) "
                   "or a folder of defect-free images");
  const std::string* bw = r.get("backbone_weights");
  if (!bw || bw->empty())
    r.fail("backbone_weights", "missing; give the torchvision densenet201-*.pth file or `random`");
  s.backbone_weights = *bw == "random" ? "random" : r.path("backbone_weights");
  s.init = r.path("init");
  s.size = static_cast<int>(r.integer("size", s.size, 32, 4096, "a multiple of 8"));
  if (s.size % 8 != 0) r.fail("size", "'" + *r.get("size") + "' is not a multiple of 8; accepted: a multiple of 8, 32 .. 4096");
  s.steps = r.integer("steps", s.steps, 1, std::numeric_limits<int>::max());
  s.batch = static_cast<int>(r.integer("batch", s.batch, 1, 4096));
  s.lr = r.number("lr", s.lr, 0.0, 10.0, true);
  s.weight_decay = r.number("weight_decay", s.weight_decay, 0.0, 1.0, false);
  s.seed = static_cast<uint64_t>(r.integer("seed", 66, 0, std::numeric_limits<long>::max()));
  s.k = static_cast<int>(r.integer("k", s.k, 1, 100000));
  s.points = static_cast<int>(r.integer("points", s.points, 1, 1000000));
  s.augment = r.boolean("augment", s.augment);
  s.synth_per_image = static_cast<int>(r.integer("synth_per_image", s.synth_per_image, 1, 100000));
  s.checkpoint_every = r.integer("checkpoint_every", s.checkpoint_every, 0, std::numeric_limits<int>::max());

  // Synthesis keys: parse_synth_settings sees only them (and [cpr] for the object flag).
  const std::vector<std::string>& sk = synth_setting_keys();
  Profile sp = profile;
  if (auto g = sp.method_groups.find("train"); g != sp.method_groups.end()) {
    std::map<std::string, std::string> only;
    for (const auto& [k, v] : g->second)
      if (std::find(sk.begin(), sk.end(), k) != sk.end()) only[k] = v;
    g->second = only;
  }
  std::map<std::string, std::string> so;
  for (const auto& [k, v] : overrides)
    if (std::find(sk.begin(), sk.end(), k) != sk.end()) so[k] = v;
  s.synth = parse_synth_settings(sp, so);
  return s;
}

}  // namespace advad::cpr
