#include "inpformer/train_settings.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/profile_reader.h"

namespace fs = std::filesystem;

namespace advad::inpformer {

const std::vector<std::string>& train_keys() {
  static const std::vector<std::string> k = {
      "data", "encoder_weights", "grids", "full_image", "batch", "epochs", "iterations", "lr", "lr_final",
      "warmup", "weight_decay", "clip", "seed", "hflip", "vflip", "lighting", "checkpoint_every", "cache_mb"};
  return k;
}

TrainSettings parse_train_settings(const Profile& profile, const std::map<std::string, std::string>& overrides) {
  // Paths: [train] values relative to the profile's folder, command-line values to the working directory.
  const ProfileGroup r = ProfileGroup::of(profile, "train", overrides);
  r.only_keys(train_keys());

  TrainSettings s;
  s.data = r.path("data");
  if (s.data.empty())
    r.fail("data", "missing; give the category folder that holds train/good (MVTec AD 2 or MVTec AD layout)");
  const std::string ew = r.require(
      "encoder_weights", "give the DINOv2 weights file (e.g. dinov2_vitl14_reg4_pretrain.pth) or `random`");
  s.encoder_weights = ew == "random" ? "random" : r.path("encoder_weights");
  if (const std::string g = r.string("grids"); !g.empty()) {
    r.with("grids", [&](const std::string& v) {
      try {
        s.grids = parse_levels(v);
      } catch (const ProfileError& e) {
        throw ProfileError(std::string(e.what()) +
                           " (accepted: COLSxROWS grids separated by ',' or ';', e.g. 2x2,4x4)");
      }
    });
  }
  s.full_image = r.boolean("full_image", s.full_image);
  if (s.grids.empty() && !s.full_image)
    r.fail("full_image", "false with no grids leaves nothing to train on; set grids or full_image = true");
  s.batch = r.integer("batch", s.batch, 1, 4096);
  s.epochs = r.integer("epochs", s.epochs, 1, 1000000);
  s.iterations = r.integer_long("iterations", 0, 1, std::numeric_limits<int>::max());
  s.lr = r.number("lr", s.lr, 0.0, 10.0, Bound::LowOpen);
  s.lr_final = r.number("lr_final", s.lr_final, 0.0, 10.0);
  s.warmup = r.integer_long("warmup", s.warmup, 0, std::numeric_limits<int>::max());
  s.weight_decay = r.number("weight_decay", s.weight_decay, 0.0, 1.0);
  s.clip = r.number("clip", s.clip, 0.0, 1e9, Bound::LowOpen);
  s.seed = static_cast<uint64_t>(r.integer_long("seed", 1, 0, std::numeric_limits<long>::max()));
  s.hflip = r.boolean("hflip", s.hflip);
  s.vflip = r.boolean("vflip", s.vflip);
  s.lighting = r.boolean("lighting", s.lighting);
  s.checkpoint_every = r.integer_long("checkpoint_every", s.checkpoint_every, 0, std::numeric_limits<int>::max());
  s.cache_mb = r.integer_long("cache_mb", s.cache_mb, 0, 1L << 30);
  return s;
}

namespace {

// Architecture of a randomly initialised encoder, from [inpformer] alone.
InpFormerConfig random_encoder_config(const Profile& profile) {
  const ProfileGroup g = ProfileGroup::of(profile, "inpformer");
  const std::string why = " (needed because [train] encoder_weights = random)";
  auto integer = [&](const std::string& key, int def) {
    g.with(key, [&](const std::string& v) {
      try {
        def = static_cast<int>(ProfileGroup::parse_integer(v, 0, std::numeric_limits<int>::max()));
      } catch (const ProfileError& e) {
        throw ProfileError(e.what() + why);
      }
    });
    return def;
  };
  if (!g.has("encoder"))
    g.fail("encoder", "missing; accepted: vit_small | vit_base | vit_large | vit_giant | custom (custom needs "
                      "embed_dim, depth, heads, taps)" + why);
  const std::string enc = g.string("encoder");
  InpFormerConfig c;
  if (enc == "custom") {
    for (const char* k : {"embed_dim", "depth", "heads", "taps"})
      if (!g.has(k)) g.fail(k, "missing; a custom encoder needs embed_dim, depth, heads and taps" + why);
    c.embed_dim = integer("embed_dim", c.embed_dim);
    c.depth = integer("depth", c.depth);
    c.heads = integer("heads", c.heads);
  } else {
    try {
      c = preset_config(enc, integer("registers", 4));
    } catch (const ModelError&) {
      g.fail("encoder", "bad value '" + enc + "'; accepted: vit_small | vit_base | vit_large | vit_giant | custom" + why);
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
