#include "cpr/train/settings.h"

#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/profile_reader.h"

namespace fs = std::filesystem;

namespace advad::cpr {

namespace {

// The trainer's own keys, in the order --help lists them (without the synthesis keys).
const std::vector<std::string>& cpr_train_own_keys() {
  static const std::vector<std::string> k = {"data",   "backbone_weights", "init",   "size",
                                             "steps",  "batch",            "lr",     "weight_decay",
                                             "seed",   "k",                "points", "augment",
                                             "synth_per_image",            "checkpoint_every"};
  return k;
}

}  // namespace

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
  // Paths: [train] values relative to the profile's folder, command-line values to the working directory.
  const ProfileGroup r = ProfileGroup::of(profile, "train", overrides);
  r.only_keys(cpr_train_keys());

  CprTrainSettings s;
  s.data = r.path("data");
  if (s.data.empty())
    r.fail("data", "missing; give the category folder that holds train/good (MVTec AD 2 or MVTec AD layout) "
                   "or a folder of defect-free images");
  const std::string bw = r.require("backbone_weights", "give the torchvision densenet201-*.pth file or `random`");
  s.backbone_weights = bw == "random" ? "random" : r.path("backbone_weights");
  s.init = r.path("init");
  s.size = r.integer("size", s.size, 32, 4096);
  if (s.size % 8 != 0)
    r.fail("size", "bad value '" + r.string("size") + "'; accepted: a multiple of 8, integer 32..4096");
  s.steps = r.integer_long("steps", s.steps, 1, std::numeric_limits<int>::max());
  s.batch = r.integer("batch", s.batch, 1, 4096);
  s.lr = r.number("lr", s.lr, 0.0, 10.0, Bound::LowOpen);
  s.weight_decay = r.number("weight_decay", s.weight_decay, 0.0, 1.0);
  s.seed = static_cast<uint64_t>(r.integer_long("seed", 66, 0, std::numeric_limits<long>::max()));
  s.k = r.integer("k", s.k, 1, 100000);
  s.points = r.integer("points", s.points, 1, 1000000);
  s.augment = r.boolean("augment", s.augment);
  s.synth_per_image = r.integer("synth_per_image", s.synth_per_image, 1, 100000);
  s.checkpoint_every = r.integer_long("checkpoint_every", s.checkpoint_every, 0, std::numeric_limits<int>::max());
  // The synthesis keys (and [cpr] foreground for the object flag), same group, same path rule.
  s.synth = parse_synth_settings(profile, overrides);
  return s;
}

}  // namespace advad::cpr
