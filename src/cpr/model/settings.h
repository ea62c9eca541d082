// The [cpr] group of a category profile, validated strictly.
//
//   [cpr]
//   k = 10                  # training images retrieved per query (GRB), >= 1
//   region_sizes = 3,1      # local neighbourhood per scale (stride 4, stride 8), odd
//   foreground = off        # on: weight the map by the FEB foreground (object categories)
//   top_t = 512             # image score = sum of the top_t largest pixels of the blurred map
//   blur = off              # on: return the 33x33 sigma-4 blurred map (official test.py);
//                           # off: the unblurred map (the ISVL seed); the score always uses the blur
//   blur_ksize = 33, blur_sigma = 4
//   backbone_weights =      # torchvision densenet201-*.pth, only when weights.pth has no backbone
//   bank_dtype = fp32       # fp32 | fp16: dtype of the feature bank in device memory
#pragma once
#include <array>
#include <string>
#include <torch/types.h>

#include "core/profile.h"

namespace advad::cpr {

struct CprSettings {
  int k = 10;
  std::array<int, 2> region_sizes{3, 1};
  bool foreground = false;
  int top_t = 512;
  bool blur = false;
  int blur_ksize = 33;
  double blur_sigma = 4.0;
  std::string backbone_weights;  // absolute path or ""
  torch::ScalarType bank_dtype = torch::kFloat;
};

// Parse profile.method_groups["cpr"] (absent group = defaults). Relative
// backbone_weights resolve against the profile's folder. Throws ProfileError
// naming the file, group, key, the bad value and the accepted values.
CprSettings parse_cpr_settings(const Profile& profile);

// Write settings back into a profile's [cpr] group (used by import / train).
void store_cpr_settings(const CprSettings& s, Profile& profile);

}  // namespace advad::cpr
