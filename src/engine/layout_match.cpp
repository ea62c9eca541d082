#include "engine/layout_match.h"

#include <sstream>

namespace advad {

bool same_layout(const TileLayout& a, const TileLayout& b) {
  if (a.frame_width != b.frame_width || a.frame_height != b.frame_height || a.merge != b.merge ||
      a.blend != b.blend || a.tiles.size() != b.tiles.size())
    return false;
  for (size_t i = 0; i < a.tiles.size(); ++i)
    if (a.tiles[i].rect != b.tiles[i].rect || a.tiles[i].level != b.tiles[i].level) return false;
  return true;
}

namespace {
template <class T>
void differ(std::vector<std::string>* out, const char* key, const T& a, const T& b) {
  if (a == b) return;
  std::ostringstream os;
  os << key << " = " << a << " vs " << b;
  out->push_back(os.str());
}
}  // namespace

std::vector<std::string> layout_differences(const Profile& a, const Profile& b) {
  std::vector<std::string> d;
  differ(&d, "[tiling] levels", to_string(a.tiling.levels), to_string(b.tiling.levels));
  differ(&d, "[tiling] overlap", a.tiling.overlap, b.tiling.overlap);
  differ(&d, "[tiling] merge", to_string(a.tiling.merge), to_string(b.tiling.merge));
  differ(&d, "[tiling] blend", to_string(a.tiling.blend), to_string(b.tiling.blend));
  differ(&d, "[input] width", a.input.width, b.input.width);
  differ(&d, "[input] height", a.input.height, b.input.height);
  differ(&d, "[input] crop", a.input.crop, b.input.crop);
  return d;
}

}  // namespace advad
