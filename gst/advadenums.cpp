#include "advadenums.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/profile.h"

GType gst_advad_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ADVAD_PRECISION_AUTO,
       "The profile's [profile] precision if set; else bf16 where the device has native bf16 (CPU flag avx512_bf16 "
       "or amx_bf16, CUDA compute capability 8+) and the method a bf16 path (INP-Former), else fp32",
       "auto"},
      {GST_ADVAD_PRECISION_FP32, "32-bit float (every device)", "fp32"},
      {GST_ADVAD_PRECISION_FP16, "16-bit float weights and matmuls (CUDA devices)", "fp16"},
      {GST_ADVAD_PRECISION_BF16,
       "bfloat16 weights and matmuls, normalisations and maps in fp32 (fast on CPUs with avx512_bf16/amx_bf16 and "
       "CUDA compute capability 8+; slow elsewhere)",
       "bf16"},
      {GST_ADVAD_PRECISION_INT8, "Dynamic int8 linear layers (INP-Former on the CPU, where the build has it)",
       "int8"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadPrecision", values));
  return type;
}

const char* gst_advad_precision_name(GstAdvadPrecision p) {
  switch (p) {
    case GST_ADVAD_PRECISION_AUTO: return "auto";
    case GST_ADVAD_PRECISION_FP16: return "fp16";
    case GST_ADVAD_PRECISION_BF16: return "bf16";
    case GST_ADVAD_PRECISION_INT8: return "int8";
    default: return "fp32";
  }
}

GType gst_advad_late_policy_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ADVAD_LATE_DROP, "Drop the frame (counted as dropped-late), as a video sink with QoS would", "drop"},
      {GST_ADVAD_LATE_CARRY, "Pass it on unscored, carrying the last result (for recordings that keep every frame)",
       "carry"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadLatePolicy", values));
  return type;
}

GType gst_advad_json_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ADVAD_JSON_APPEND, "Append to the file (restarts keep earlier results)", "append"},
      {GST_ADVAD_JSON_OVERWRITE, "Start the file anew at every start", "overwrite"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadJsonMode", values));
  return type;
}

// The colormaps are core's: advad::colormap_names(), what a profile's
// [overlay] colormap key accepts. This list only fixes the enum's numbers (a
// pipeline that sets colormap=3 keeps getting magma): core's names are
// numbered in this order, one that core adds and this list lacks comes after
// them, and a name core does not know is left out.
static const char* const kColormapOrder[] = {"jet",    "turbo",  "inferno", "magma",  "plasma", "viridis", "cividis",
                                             "hot",    "bone",   "parula",  "autumn", "winter", "rainbow", "ocean",
                                             "summer", "spring", "cool",    "hsv",    "pink",   "twilight"};

static const std::vector<std::string>& colormaps() {
  static const std::vector<std::string> names = [] {
    const std::vector<std::string>& core = advad::colormap_names();
    auto known = [](const std::vector<std::string>& list, const std::string& n) {
      return std::find(list.begin(), list.end(), n) != list.end();
    };
    std::vector<std::string> out;
    for (const char* n : kColormapOrder)
      if (known(core, n)) out.push_back(n);
    for (const auto& n : core)
      if (!known(out, n)) out.push_back(n);
    return out;
  }();
  return names;
}

const char* gst_advad_colormap_nick(int value) {
  const auto& names = colormaps();
  return value >= 0 && value < static_cast<int>(names.size()) ? names[static_cast<size_t>(value)].c_str() : nullptr;
}

GType gst_advad_colormap_get_type(void) {
  static GType type = 0;
  if (g_once_init_enter(&type)) {
    const auto& names = colormaps();
    static std::vector<GEnumValue> values;  // registered once, lives as long as the type
    values.push_back({GST_ADVAD_COLORMAP_PROFILE, "The profile's [overlay] colormap", "profile"});
    for (size_t i = 0; i < names.size(); ++i)
      values.push_back({static_cast<gint>(i), names[i].c_str(), names[i].c_str()});
    values.push_back({0, nullptr, nullptr});
    g_once_init_leave(&type, g_enum_register_static("GstAdvadColormap", values.data()));
  }
  return type;
}

GType gst_advad_switch_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {{GST_ADVAD_SWITCH_PROFILE, "As the profile says", "profile"},
                                      {GST_ADVAD_SWITCH_OFF, "Off", "off"},
                                      {GST_ADVAD_SWITCH_ON, "On", "on"},
                                      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadSwitch", values));
  return type;
}

GType gst_advad_draw_get_type(void) {
  static GType type = 0;
  static const GFlagsValue values[] = {
      {GST_ADVAD_DRAW_HEATMAP, "Blend the anomaly heatmap over the frame", "heatmap"},
      {GST_ADVAD_DRAW_CONTOURS, "Outline each defect region", "contours"},
      {GST_ADVAD_DRAW_BOXES, "Draw each defect region's bounding box", "boxes"},
      {GST_ADVAD_DRAW_LABEL, "Write the verdict and score in the top-left corner", "label"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_flags_register_static("GstAdvadDraw", values));
  return type;
}
