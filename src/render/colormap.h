// Colormaps for the anomaly heatmap, by name (the names users type in a
// profile's [overlay] colormap key or advadoverlay's colormap property).
#pragma once
#include <string>
#include <vector>

namespace advad {

enum class Colormap { Jet, Turbo, Inferno, Magma, Plasma, Viridis, Hot, Bone, Gray };

// All names, in the order of the enum.
const std::vector<std::string>& colormap_names();
std::string to_string(Colormap c);
// Throws InputError naming the value and listing the accepted names.
Colormap parse_colormap(const std::string& name);
// The matching cv::ColormapTypes value (-1 for Gray, which is a plain ramp).
int opencv_colormap(Colormap c);

}  // namespace advad
