#include "advadenums.h"

GType gst_advad_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ADVAD_PRECISION_FP32, "32-bit float (every device)", "fp32"},
      {GST_ADVAD_PRECISION_FP16, "16-bit float (CUDA devices)", "fp16"},
      {GST_ADVAD_PRECISION_BF16, "bfloat16 (CUDA devices with bf16 support)", "bf16"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadPrecision", values));
  return type;
}

const char* gst_advad_precision_name(GstAdvadPrecision p) {
  switch (p) {
    case GST_ADVAD_PRECISION_FP16: return "fp16";
    case GST_ADVAD_PRECISION_BF16: return "bf16";
    default: return "fp32";
  }
}

GType gst_advad_colormap_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {{GST_ADVAD_COLORMAP_PROFILE, "The profile's [overlay] colormap", "profile"},
                                      {GST_ADVAD_COLORMAP_JET, "Jet (blue-cyan-yellow-red)", "jet"},
                                      {GST_ADVAD_COLORMAP_TURBO, "Turbo (improved jet)", "turbo"},
                                      {GST_ADVAD_COLORMAP_INFERNO, "Inferno (black-red-yellow)", "inferno"},
                                      {GST_ADVAD_COLORMAP_MAGMA, "Magma (black-purple-white)", "magma"},
                                      {GST_ADVAD_COLORMAP_PLASMA, "Plasma (blue-purple-yellow)", "plasma"},
                                      {GST_ADVAD_COLORMAP_VIRIDIS, "Viridis (purple-green-yellow)", "viridis"},
                                      {GST_ADVAD_COLORMAP_HOT, "Hot (black-red-yellow-white)", "hot"},
                                      {GST_ADVAD_COLORMAP_BONE, "Bone (black-blue-white)", "bone"},
                                      {GST_ADVAD_COLORMAP_GRAY, "Gray ramp", "gray"},
                                      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadColormap", values));
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
