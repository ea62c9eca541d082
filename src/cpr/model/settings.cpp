#include "cpr/model/settings.h"

#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/profile_reader.h"

namespace advad::cpr {

namespace {

// Keys accepted in [cpr].
const std::vector<std::string>& cpr_setting_keys() {
  static const std::vector<std::string> keys = {"k",     "region_sizes", "foreground", "top_t",
                                                "blur",  "blur_ksize",   "blur_sigma", "backbone_weights",
                                                "bank_dtype"};
  return keys;
}

}  // namespace

CprSettings parse_cpr_settings(const Profile& p) {
  CprSettings s;
  const ProfileGroup g = ProfileGroup::of(p, "cpr");
  g.only_keys(cpr_setting_keys());
  s.k = g.integer("k", s.k, 1, 100000);
  g.with("region_sizes", [&](const std::string& v) {
    const std::string accepted = "bad value '" + v + "'; accepted: two odd integers 1..99 (stride 4, stride 8), e.g. 3,1";
    std::stringstream ss(v);
    std::vector<int> r;
    try {
      for (std::string item; std::getline(ss, item, ',');)
        r.push_back(static_cast<int>(ProfileGroup::parse_integer(ProfileGroup::trim(item), 1, 99)));
    } catch (const ProfileError&) {
      throw ProfileError(accepted);
    }
    if (r.size() != 2 || r[0] % 2 == 0 || r[1] % 2 == 0) throw ProfileError(accepted);
    s.region_sizes = {r[0], r[1]};
  });
  s.foreground = g.boolean("foreground", s.foreground);
  s.top_t = g.integer("top_t", s.top_t, 1, 1 << 30);
  s.blur = g.boolean("blur", s.blur);
  s.blur_ksize = g.integer("blur_ksize", s.blur_ksize, 1, 999);
  if (s.blur_ksize % 2 == 0)
    g.fail("blur_ksize", "bad value '" + g.string("blur_ksize") + "'; accepted: an odd integer 1..999");
  s.blur_sigma = g.number("blur_sigma", s.blur_sigma, 0.0, std::numeric_limits<double>::infinity(), Bound::LowOpen);
  if (const std::string w = g.path("backbone_weights"); !w.empty()) s.backbone_weights = w;
  s.bank_dtype = g.choice<torch::ScalarType>("bank_dtype", s.bank_dtype, {{"fp32", torch::kFloat}, {"fp16", torch::kHalf}});
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
