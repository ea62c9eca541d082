// INP-Former model packages and the profile's [inpformer] group.
//
// A package is a directory holding
//   profile.ini   a complete advad profile (method = inpformer, model = .), whose
//                 [inpformer] group records the architecture and map settings
//   weights.pth   the network's state dict with the official key names (readable
//                 by Python's torch.load and by the official INP-Former code)
// A profile's `model` may name such a directory or an official model.pth directly.
//
// [inpformer] keys (all optional; architecture keys default to what the weights'
// shapes say and must agree with them):
//   encoder        = vit_small | vit_base | vit_large | custom
//   embed_dim, depth, heads, registers   (custom encoders; checked against the weights)
//   taps           = comma-separated encoder blocks to fuse [S/B: 2..9, L: 4,6,...,18]
//   inps           = number of INPs [6];  decoder_blocks [8]
//   groups         = ';'-separated comma lists of tap / reversed-decoder indices [0,1,2,3;4,5,6,7]
//   map_path       = official | seed   [seed when [input] crop = 0, else official]
//                    official: maps at the input side, resized to map_size, blurred, top-1 % score;
//                              the crop's map is placed into the tile (outside the crop: 0)
//                    seed:     the grid map upsampled (align_corners) straight to the tile's size, blurred
//   map_size       = official path's resize [256]
//   score_ratio    = fraction of top pixels averaged for the image score [0.01]
#pragma once
#include <string>

#include "core/profile.h"
#include "inpformer/inpformer_net.h"

namespace advad::inpformer {

enum class MapPath { Official, Seed };

struct MapSettings {
  MapPath path = MapPath::Official;
  int map_size = 256;
  double score_ratio = 0.01;
};

struct InpFormerSpec {
  InpFormerConfig cfg;
  MapSettings map;
};

// Read and strictly validate `group` (a profile's [inpformer] keys) on top of
// `base`. Throws ProfileError naming file, group, key and the accepted values.
// crop: the profile's [input] crop (picks the default map path).
// base_map: settings to start from (nullptr: the defaults for `crop`).
InpFormerSpec parse_inpformer_group(const std::map<std::string, std::string>& group, const std::string& file,
                                    int crop, InpFormerConfig base = {}, const MapSettings* base_map = nullptr);
// The keys that describe cfg and map (for writing a package's profile).
std::map<std::string, std::string> inpformer_group(const InpFormerConfig& cfg, const MapSettings& map);

// Network + map settings ready to run, from a profile (package dir or .pth).
struct LoadedInpFormer {
  InpFormerNet net{nullptr};
  MapSettings map;
  std::string weights_path;
};
// trim_encoder: keep only the encoder blocks that run (inference).
LoadedInpFormer load_inpformer(const Profile& profile, bool trim_encoder = true);

// Load a package folder (dir/profile.ini + dir/weights.pth). For training
// continuation keep trim_encoder false (all encoder blocks, as saved).
LoadedInpFormer load_package(const std::string& dir, bool trim_encoder = false);

// Write a package: dir/weights.pth (the net's state dict) and dir/profile.ini
// (`profile` with model = . and the [inpformer] group of net->cfg and map).
// Creates dir. Returns the profile path.
std::string save_package(const std::string& dir, InpFormerNet& net, Profile profile, const MapSettings& map);

}  // namespace advad::inpformer
