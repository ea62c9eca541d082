// Is a scored map fit to decide on? A map with a NaN or an infinity, or of
// another size than the frame, must never turn into an "ok" verdict; a map
// that is exactly constant over the whole frame is suspicious (a dead model
// or a blank input) but still usable.
#pragma once
#include <string>

#include "core/tile_layout.h"

namespace advad {

// Reasons a frame is left unscored (also used as stats keys and in JSON).
inline constexpr const char* kUnscoredNonFinite = "non-finite";
inline constexpr const char* kUnscoredWrongShape = "wrong-shape";
inline constexpr const char* kUnscoredModelError = "model-error";
inline constexpr const char* kUnscoredLayoutMismatch = "layout-mismatch";

struct MapHealth {
  std::string unscored_reason;  // empty: the map may be used
  std::string detail;           // one line for logs and warnings
  bool constant = false;        // every pixel has the same value
  double bytes_down = 0;        // a device map: the scalars the check downloaded (never the map)
  bool ok() const { return unscored_reason.empty(); }
};

// A map left on the device (AnomalyMap::device_map, no host map yet) is checked
// there: shape, all finite, min and max come down as three scalars; the first
// non-finite pixel (row-major, as cv::checkRange) only when there is one.
MapHealth check_map(const AnomalyMap& map, int frame_width, int frame_height);

}  // namespace advad
