#include "inpformer/train_settings.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.h"

namespace fs = std::filesystem;

namespace advad::inpformer {

namespace {

struct Reader {
  const Profile& profile;
  const std::map<std::string, std::string>& overrides;

  std::string where(const std::string& key) const {
    if (overrides.count(key)) {
      std::string flag = key;
      for (auto& c : flag)
        if (c == '_') c = '-';
      return "command line --" + flag;
    }
    return profile.path + ": [train] " + key;
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
  long integer(const std::string& key, long def, long lo, long hi) const {
    const std::string* v = get(key);
    if (!v) return def;
    long x = 0;
    try {
      size_t pos = 0;
      x = std::stol(*v, &pos);
      if (pos != v->size()) throw std::invalid_argument(*v);
    } catch (const std::logic_error&) {
      fail(key, "'" + *v + "' is not an integer; accepted: " + std::to_string(lo) + " .. " + std::to_string(hi));
    }
    if (x < lo || x > hi)
      fail(key, *v + " is out of range; accepted: " + std::to_string(lo) + " .. " + std::to_string(hi));
    return x;
  }
  double number(const std::string& key, double def, double lo, double hi, bool lo_open = false) const {
    const std::string* v = get(key);
    if (!v) return def;
    double x = 0;
    try {
      size_t pos = 0;
      x = std::stod(*v, &pos);
      if (pos != v->size()) throw std::invalid_argument(*v);
    } catch (const std::logic_error&) {
      fail(key, "'" + *v + "' is not a number");
    }
    if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
      fail(key, *v + " is out of range; accepted: " + std::string(lo_open ? "> " : ">= ") + std::to_string(lo) +
                    " and <= " + std::to_string(hi));
    return x;
  }
  bool boolean(const std::string& key, bool def) const {
    const std::string* v = get(key);
    if (!v) return def;
    if (*v == "true" || *v == "1" || *v == "yes") return true;
    if (*v == "false" || *v == "0" || *v == "no") return false;
    fail(key, "'" + *v + "' is not a boolean; accepted: true | false");
  }
  std::string path(const std::string& key) const {
    const std::string* v = get(key);
    if (!v || v->empty()) return "";
    fs::path p(*v);
    if (p.is_absolute()) return p.lexically_normal().string();
    // Command-line paths are relative to the working directory, profile paths to the profile's folder.
    fs::path base = overrides.count(key) ? fs::current_path() : fs::path(profile.path).parent_path();
    return fs::absolute(base / p).lexically_normal().string();
  }
};

}  // namespace

const std::vector<std::string>& train_keys() {
  static const std::vector<std::string> k = {
      "data", "encoder_weights", "grids", "full_image", "batch", "epochs", "iterations", "lr", "lr_final",
      "warmup", "weight_decay", "clip", "seed", "hflip", "vflip", "lighting", "checkpoint_every", "cache_mb"};
  return k;
}

TrainSettings parse_train_settings(const Profile& profile, const std::map<std::string, std::string>& overrides) {
  Reader r{profile, overrides};
  std::string accepted;
  for (const auto& k : train_keys()) accepted += (accepted.empty() ? "" : ", ") + k;
  auto check_known = [&](const std::map<std::string, std::string>& m) {
    for (const auto& [k, v] : m)
      if (std::find(train_keys().begin(), train_keys().end(), k) == train_keys().end())
        r.fail(k, "unknown key; accepted keys: " + accepted);
  };
  if (auto g = profile.method_groups.find("train"); g != profile.method_groups.end()) check_known(g->second);
  check_known(overrides);

  TrainSettings s;
  s.data = r.path("data");
  if (s.data.empty())
    r.fail("data", "missing; give the category folder that holds train/good (MVTec AD 2 or MVTec AD layout)");
  const std::string* ew = r.get("encoder_weights");
  if (!ew || ew->empty())
    r.fail("encoder_weights",
           "missing; give the DINOv2 weights file (e.g. dinov2_vitl14_reg4_pretrain.pth) or `random`");
  s.encoder_weights = *ew == "random" ? "random" : r.path("encoder_weights");
  if (const std::string* g = r.get("grids"); g && !g->empty()) {
    try {
      s.grids = parse_levels(*g);
    } catch (const ProfileError& e) {
      r.fail("grids", std::string(e.what()) + " (accepted: COLSxROWS grids separated by ',' or ';', e.g. 2x2,4x4)");
    }
  }
  s.full_image = r.boolean("full_image", s.full_image);
  if (s.grids.empty() && !s.full_image)
    r.fail("full_image", "false with no grids leaves nothing to train on; set grids or full_image = true");
  s.batch = static_cast<int>(r.integer("batch", s.batch, 1, 4096));
  s.epochs = static_cast<int>(r.integer("epochs", s.epochs, 1, 1000000));
  s.iterations = r.integer("iterations", 0, 1, std::numeric_limits<int>::max());
  s.lr = r.number("lr", s.lr, 0.0, 10.0, true);
  s.lr_final = r.number("lr_final", s.lr_final, 0.0, 10.0);
  s.warmup = r.integer("warmup", s.warmup, 0, std::numeric_limits<int>::max());
  s.weight_decay = r.number("weight_decay", s.weight_decay, 0.0, 1.0);
  s.clip = r.number("clip", s.clip, 0.0, 1e9, true);
  s.seed = static_cast<uint64_t>(r.integer("seed", 1, 0, std::numeric_limits<long>::max()));
  s.hflip = r.boolean("hflip", s.hflip);
  s.vflip = r.boolean("vflip", s.vflip);
  s.lighting = r.boolean("lighting", s.lighting);
  s.checkpoint_every = r.integer("checkpoint_every", s.checkpoint_every, 0, std::numeric_limits<int>::max());
  s.cache_mb = r.integer("cache_mb", s.cache_mb, 0, 1L << 30);
  return s;
}

namespace {

// Architecture of a randomly initialised encoder, from [inpformer] alone.
InpFormerConfig random_encoder_config(const Profile& profile) {
  const std::string file = profile.path;
  std::map<std::string, std::string> g;
  if (auto it = profile.method_groups.find("inpformer"); it != profile.method_groups.end()) g = it->second;
  auto fail = [&](const std::string& key, const std::string& msg) {
    throw ProfileError(file + ": [inpformer] " + key + ": " + msg + " (needed because [train] encoder_weights = random)");
  };
  auto integer = [&](const std::string& key, int def) {
    auto it = g.find(key);
    if (it == g.end()) return def;
    try {
      size_t pos = 0;
      int x = std::stoi(it->second, &pos);
      if (pos != it->second.size() || x < 0) throw std::invalid_argument(it->second);
      return x;
    } catch (const std::logic_error&) {
      fail(key, "'" + it->second + "' is not a non-negative integer");
    }
    return def;  // not reached: fail throws
  };
  auto enc = g.find("encoder");
  if (enc == g.end())
    fail("encoder", "missing; accepted: vit_small | vit_base | vit_large | vit_giant | custom (custom needs embed_dim, depth, heads, taps)");
  InpFormerConfig c;
  if (enc->second == "custom") {
    for (const char* k : {"embed_dim", "depth", "heads", "taps"})
      if (!g.count(k)) fail(k, "missing; a custom encoder needs embed_dim, depth, heads and taps");
    c.embed_dim = integer("embed_dim", c.embed_dim);
    c.depth = integer("depth", c.depth);
    c.heads = integer("heads", c.heads);
  } else {
    try {
      c = preset_config(enc->second, integer("registers", 4));
    } catch (const ModelError&) {
      fail("encoder", "'" + enc->second + "' is not one of vit_small, vit_base, vit_large, vit_giant, custom");
    }
  }
  c.registers = integer("registers", c.registers);
  c.n_inps = integer("inps", c.n_inps);
  c.n_decoder = integer("decoder_blocks", c.n_decoder);
  return c;
}

}  // namespace

InpFormerSpec training_spec(const Profile& profile, const TrainSettings& s, StateDict* encoder_sd) {
  std::map<std::string, std::string> group;
  if (auto it = profile.method_groups.find("inpformer"); it != profile.method_groups.end()) group = it->second;
  InpFormerConfig base;
  if (s.encoder_weights == "random") {
    base = random_encoder_config(profile);
    if (encoder_sd) *encoder_sd = StateDict{};
  } else {
    if (!fs::exists(s.encoder_weights))
      throw ModelError("encoder weights " + s.encoder_weights + " not found ([train] encoder_weights in " +
                       profile.path + "); download dinov2_vit{s,b,l}14_reg4_pretrain.pth or use `random`");
    StateDict sd = load_state_dict(s.encoder_weights);  // ModelError naming the file when unreadable
    const WeightsKind kind = weights_kind(sd);          // ModelError when neither DINOv2 nor INP-Former
    base = infer_config(sd);
    if (kind == WeightsKind::Dinov2) {
      // A DINOv2 file says nothing about the INP modules: take their sizes from [inpformer].
      auto take = [&](const char* key, int& field) {
        if (auto it = group.find(key); it != group.end()) {
          try {
            size_t pos = 0;
            const int x = std::stoi(it->second, &pos);
            if (pos == it->second.size() && x > 0) field = x;
          } catch (const std::logic_error&) {
          }  // malformed values are reported by parse_inpformer_group below
        }
      };
      take("inps", base.n_inps);
      take("decoder_blocks", base.n_decoder);
    }
    if (encoder_sd) *encoder_sd = std::move(sd);
  }
  return parse_inpformer_group(group, profile.path, profile.input.crop, base);
}

}  // namespace advad::inpformer
