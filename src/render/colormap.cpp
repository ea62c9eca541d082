#include "render/colormap.h"

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace advad {

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> names{"jet",     "turbo", "inferno", "magma", "plasma",
                                              "viridis", "hot",   "bone",    "gray"};
  return names;
}

std::string to_string(Colormap c) { return colormap_names().at(static_cast<size_t>(c)); }

Colormap parse_colormap(const std::string& name) {
  const auto& names = colormap_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Colormap>(i);
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  throw InputError("unknown colormap '" + name + "': use one of " + all);
}

int opencv_colormap(Colormap c) {
  switch (c) {
    case Colormap::Jet: return cv::COLORMAP_JET;
    case Colormap::Turbo: return cv::COLORMAP_TURBO;
    case Colormap::Inferno: return cv::COLORMAP_INFERNO;
    case Colormap::Magma: return cv::COLORMAP_MAGMA;
    case Colormap::Plasma: return cv::COLORMAP_PLASMA;
    case Colormap::Viridis: return cv::COLORMAP_VIRIDIS;
    case Colormap::Hot: return cv::COLORMAP_HOT;
    case Colormap::Bone: return cv::COLORMAP_BONE;
    case Colormap::Gray: return -1;
  }
  return -1;
}

}  // namespace advad
