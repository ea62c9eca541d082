#include "inpformer/inpformer_package.h"

#include <filesystem>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/profile_reader.h"
#include "data/package_paths.h"
#include "inpformer/inpformer_weights.h"
#include "io/state_dict.h"

namespace fs = std::filesystem;

namespace advad::inpformer {

namespace {

const std::vector<std::string> kKeys = {"encoder", "embed_dim", "depth", "heads", "registers", "taps", "inps",
                                        "decoder_blocks", "groups", "map_path", "map_size", "score_ratio"};

std::string join(const std::vector<int>& v, const char* sep = ",") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}

// Comma-separated integers 0..1000 (taps, one group of `groups`).
std::vector<int> int_list(const std::string& v) {
  std::vector<int> r;
  std::stringstream ss(v);
  for (std::string tok; std::getline(ss, tok, ',');)
    r.push_back(static_cast<int>(ProfileGroup::parse_integer(ProfileGroup::trim(tok), 0, 1000)));
  if (r.empty()) throw ProfileError("empty list; accepted: comma-separated integers 0..1000");
  return r;
}

}  // namespace

InpFormerSpec parse_inpformer_group(const std::map<std::string, std::string>& group, const std::string& file,
                                    int crop, InpFormerConfig base, const MapSettings* base_map) {
  const ProfileGroup r(file, "inpformer", group);
  r.only_keys(kKeys);
  InpFormerSpec s;
  s.cfg = base;
  if (base_map) s.map = *base_map;
  else s.map.path = crop > 0 ? MapPath::Official : MapPath::Seed;
  // Architecture keys must agree with the base (the weights' shapes).
  auto arch = [&](const std::string& key, int& field, int lo, int hi, const char* unit) {
    r.with(key, [&](const std::string& v) {
      const long x = ProfileGroup::parse_integer(v, lo, hi);
      if (x != field)
        throw ProfileError(std::to_string(x) + " does not match the weights, which have " + std::to_string(field) + unit);
    });
  };
  r.with("encoder", [&](const std::string& v) {
    if (v == "custom") return;
    InpFormerConfig p;
    try {
      p = preset_config(v, base.registers);
    } catch (const ModelError&) {
      throw ProfileError("bad value '" + v + "'; accepted: vit_small | vit_base | vit_large | vit_giant | custom");
    }
    if (p.embed_dim != base.embed_dim || p.heads != base.heads || p.depth < base.depth)
      throw ProfileError(v + " does not match the weights (" + base.describe() + ")");
  });
  arch("embed_dim", s.cfg.embed_dim, 1, 100000, "");
  arch("heads", s.cfg.heads, 1, 100000, "");
  arch("registers", s.cfg.registers, 0, 100000, "");
  arch("inps", s.cfg.n_inps, 1, 100000, "");
  arch("decoder_blocks", s.cfg.n_decoder, 1, 100000, "");
  arch("depth", s.cfg.depth, 1, 1000, " blocks");
  r.with("taps", [&](const std::string& v) { s.cfg.taps = int_list(v); });
  r.with("groups", [&](const std::string& v) {
    std::vector<std::vector<int>> gs;
    std::stringstream ss(v);
    for (std::string g; std::getline(ss, g, ';');) gs.push_back(int_list(g));
    s.cfg.enc_groups = s.cfg.dec_groups = gs;
  });
  s.map.path = r.choice("map_path", s.map.path, {{"official", MapPath::Official}, {"seed", MapPath::Seed}});
  s.map.map_size = r.integer("map_size", s.map.map_size, 8, 8192);
  s.map.score_ratio = r.number("score_ratio", s.map.score_ratio, 0.0, 1.0, Bound::LowOpen);
  try {
    s.cfg.validate();
  } catch (const ModelError& e) {
    throw ProfileError(file + ": [inpformer] " + e.what());
  }
  return s;
}

std::map<std::string, std::string> inpformer_group(const InpFormerConfig& c, const MapSettings& m) {
  std::map<std::string, std::string> g;
  g["encoder"] = encoder_name(c);
  g["embed_dim"] = std::to_string(c.embed_dim);
  g["depth"] = std::to_string(c.depth);
  g["heads"] = std::to_string(c.heads);
  g["registers"] = std::to_string(c.registers);
  g["taps"] = join(c.taps);
  g["inps"] = std::to_string(c.n_inps);
  g["decoder_blocks"] = std::to_string(c.n_decoder);
  if (c.enc_groups != c.dec_groups)
    throw ModelError("INP-Former config: a profile can only record equal encoder and decoder groups");
  std::string groups;
  for (size_t i = 0; i < c.enc_groups.size(); ++i) groups += (i ? ";" : "") + join(c.enc_groups[i]);
  g["groups"] = groups;
  g["map_path"] = m.path == MapPath::Official ? "official" : "seed";
  g["map_size"] = std::to_string(m.map_size);
  std::ostringstream r;
  r << m.score_ratio;
  g["score_ratio"] = r.str();
  return g;
}

LoadedInpFormer load_inpformer(const Profile& profile, bool trim_encoder) {
  LoadedInpFormer out;
  fs::path model(profile.model);
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> groups;  // (file, keys), applied in order
  if (fs::is_directory(model)) {
    out.weights_path = (model / "weights.pth").string();
    fs::path pkg_ini = model / "profile.ini";
    if (fs::exists(pkg_ini)) {
      Profile pkg = load_profile(pkg_ini.string(), /*check_model_file=*/false);
      auto it = pkg.method_groups.find("inpformer");
      if (it != pkg.method_groups.end()) groups.emplace_back(pkg_ini.string(), it->second);
    }
    if (!fs::exists(out.weights_path))
      throw ModelError(model.string() + ": the INP-Former package has no weights.pth (train it with advad train, "
                       "or import official weights with advad import inpformer)");
  } else if (fs::exists(model)) {
    out.weights_path = model.string();
  } else {
    throw ModelError(profile.path + ": model '" + model.string() + "' not found");
  }
  auto pg = profile.method_groups.find("inpformer");
  if (pg != profile.method_groups.end()) groups.emplace_back(profile.path, pg->second);

  StateDict sd = load_state_dict(out.weights_path);
  if (weights_kind(sd) == WeightsKind::Dinov2)
    throw ModelError(out.weights_path + ": holds only a DINOv2 encoder; INP-Former needs trained weights "
                     "(advad train, or an official model.pth)");
  InpFormerSpec spec{infer_config(sd), {}};
  spec.map.path = profile.input.crop > 0 ? MapPath::Official : MapPath::Seed;
  for (const auto& [file, keys] : groups)
    spec = parse_inpformer_group(keys, file, profile.input.crop, spec.cfg, &spec.map);
  if (groups.empty()) spec = parse_inpformer_group({}, profile.path, profile.input.crop, spec.cfg);
  InpFormerConfig cfg = spec.cfg;
  if (trim_encoder) cfg.depth = cfg.run_depth();
  out.net = InpFormerNet(cfg);
  load_inpformer_weights(out.net, sd, trim_encoder);
  out.map = spec.map;
  return out;
}

LoadedInpFormer load_package(const std::string& dir, bool trim_encoder) {
  fs::path ini = fs::path(dir) / "profile.ini";
  if (!fs::exists(ini))
    throw ModelError(dir + ": not an advad INP-Former package (no profile.ini); write one with advad import "
                     "inpformer or advad train");
  return load_inpformer(load_profile(ini.string()), trim_encoder);
}

std::string save_package(const std::string& dir, InpFormerNet& net, Profile profile, const MapSettings& map) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ModelError(dir + ": cannot create the package folder: " + ec.message());
  save_state_dict(inpformer_state_dict(net), (fs::path(dir) / "weights.pth").string());
  profile.method = "inpformer";
  // Self-contained: model "." and [train] paths relative to the package.
  rebase_train_paths(profile, profile.path.empty() ? "" : fs::path(profile.path).parent_path().string(), dir);
  profile.model = fs::absolute(dir).lexically_normal().string();
  profile.method_groups["inpformer"] = inpformer_group(net->cfg, map);
  std::string ini = (fs::path(dir) / "profile.ini").string();
  profile.path = ini;
  save_profile(profile, ini);
  return ini;
}

}  // namespace advad::inpformer
