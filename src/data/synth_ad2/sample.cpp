#include "data/synth_ad2/sample.h"

#include <algorithm>
#include <cmath>

#include "data/synth_ad2/lighting.h"

namespace advad::synth_ad2 {
namespace {

uint32_t name_hash(const char* s) {  // FNV-1a: stable across runs and platforms
  uint32_t h = 2166136261u;
  for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 16777619u;
  return h;
}

int round_to(double v, int multiple) { return std::max(multiple, static_cast<int>(std::lround(v / multiple)) * multiple); }

}  // namespace

const std::vector<CategoryDef>& categories() {
  static const std::vector<CategoryDef> all = {can_category(),         fabric_category(),    fruit_jelly_category(),
                                               rice_category(),        sheet_metal_category(), vial_category(),
                                               wallplugs_category(),   walnuts_category()};
  return all;
}

const CategoryDef* find_category(const std::string& name) {
  for (const auto& c : categories())
    if (name == c.name) return &c;
  return nullptr;
}

cv::Size category_size(const CategoryDef& cat, int long_side) {
  const double k = static_cast<double>(long_side) / std::max(cat.real_w, cat.real_h);
  return {round_to(cat.real_w * k, cat.grid_cols), round_to(cat.real_h * k, cat.grid_rows)};
}

std::string public_condition(const CategoryDef& cat, int index) {
  const int k = index % (3 + cat.shifts);
  if (k == 0) return "regular";
  if (k == 1) return "overexposed";
  if (k == 2) return "underexposed";
  return "shift_" + std::to_string(k - 2);
}

std::vector<bool> private_defects(const CategoryDef& cat, uint32_t seed, int n) {
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  Rng rng(mix_seed({seed, name_hash(cat.name), 0x50524956u}));
  for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng.next() % static_cast<uint32_t>(i + 1)]);
  std::vector<bool> bad(static_cast<size_t>(n), false);
  for (int i = 0; i < (n + 1) / 2; ++i) bad[static_cast<size_t>(order[static_cast<size_t>(i)])] = true;
  return bad;
}

Sample render_sample(const CategoryDef& cat, cv::Size size, uint32_t seed, Split split, int index, bool defect) {
  // The mixed split shows the private split's scenes.
  const Split scene_split = split == Split::PrivateMixed ? Split::Private : split;
  const uint32_t scene_seed =
      mix_seed({seed, name_hash(cat.name), static_cast<uint32_t>(scene_split), static_cast<uint32_t>(index)});
  Rng rng(scene_seed);
  Scene scene = cat.draw(size, rng);
  Sample s;
  s.clean = scene.image;
  s.object = scene.object;
  s.mask = cv::Mat::zeros(size, CV_8UC1);
  s.image = scene.image;
  if (defect) {
    Rng drng(mix_seed({scene_seed, 0xDEFEC7u}));
    // A category's plant() retries small masks itself; this is the last guard.
    for (int attempt = 0; attempt < 8; ++attempt) {
      Scene copy = scene;
      copy.image = scene.image.clone();
      const cv::Mat m = cat.plant(copy, drng);
      if (big_enough(m)) {
        s.image = copy.image;
        s.mask = m;
        break;
      }
    }
  }
  if (split == Split::TestGood || split == Split::TestBad) {
    s.condition = public_condition(cat, index);
    const Lighting l = named_lighting(s.condition);
    s.image = apply_lighting(s.image, l);
    s.clean = apply_lighting(s.clean, l);
  } else if (split == Split::PrivateMixed) {
    s.condition = "mixed";
    Rng lrng(mix_seed({seed, name_hash(cat.name), 0x4D495844u, static_cast<uint32_t>(index)}));
    const Lighting l = mixed_lighting(lrng, cat.shifts);
    s.image = apply_lighting(s.image, l);
    s.clean = apply_lighting(s.clean, l);
  } else {
    s.condition = "regular";
  }
  return s;
}

}  // namespace advad::synth_ad2
