// Do two profiles tile a frame the same way, and does a frame's tile layout
// fit the model that is about to score it? advadtile and advadinfer use these
// to agree on one layout, and to refuse frames tiled for another model.
#pragma once
#include <string>
#include <vector>

#include "core/profile.h"
#include "core/tile_layout.h"

namespace advad {

// Same frame size, same tiles (rects and levels), same merge and blend.
bool same_layout(const TileLayout& a, const TileLayout& b);

// The keys in which two profiles would tile or feed the model differently,
// e.g. "[tiling] levels = 2x2 vs 1x1", "[input] width = 256 vs 448".
// Empty when they agree.
std::vector<std::string> layout_differences(const Profile& a, const Profile& b);

}  // namespace advad
