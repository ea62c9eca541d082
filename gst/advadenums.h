// GEnum / GFlags types of the advad element properties (so gst-inspect-1.0
// lists the accepted values).
#pragma once
#include <glib-object.h>

enum GstAdvadPrecision {
  GST_ADVAD_PRECISION_FP32,
  GST_ADVAD_PRECISION_FP16,
  GST_ADVAD_PRECISION_BF16,
  GST_ADVAD_PRECISION_AUTO,
  GST_ADVAD_PRECISION_INT8,
};
GType gst_advad_precision_get_type(void);
#define GST_TYPE_ADVAD_PRECISION (gst_advad_precision_get_type())
const char* gst_advad_precision_name(GstAdvadPrecision p);  // "auto" | "fp32" | "fp16" | "bf16" | "int8"

// What advadinfer does with a frame that is already too late to be shown in
// time (QoS from downstream, or the clock for a live source).
enum GstAdvadLatePolicy { GST_ADVAD_LATE_DROP = 0, GST_ADVAD_LATE_CARRY = 1 };
GType gst_advad_late_policy_get_type(void);
#define GST_TYPE_ADVAD_LATE_POLICY (gst_advad_late_policy_get_type())

// How advadoverlay opens its JSON lines file.
enum GstAdvadJsonMode { GST_ADVAD_JSON_APPEND = 0, GST_ADVAD_JSON_OVERWRITE = 1 };
GType gst_advad_json_mode_get_type(void);
#define GST_TYPE_ADVAD_JSON_MODE (gst_advad_json_mode_get_type())

// -1 = take it from the profile; otherwise an index into
// gst_advad_colormap_nick(), whose names advad::colormap_id() resolves.
enum { GST_ADVAD_COLORMAP_PROFILE = -1 };
GType gst_advad_colormap_get_type(void);
const char* gst_advad_colormap_nick(int value);  // null for "profile"
#define GST_TYPE_ADVAD_COLORMAP (gst_advad_colormap_get_type())

// A yes/no setting that can also defer to the profile.
enum GstAdvadSwitch { GST_ADVAD_SWITCH_PROFILE = -1, GST_ADVAD_SWITCH_OFF = 0, GST_ADVAD_SWITCH_ON = 1 };
GType gst_advad_switch_get_type(void);
#define GST_TYPE_ADVAD_SWITCH (gst_advad_switch_get_type())

enum GstAdvadDraw {
  GST_ADVAD_DRAW_HEATMAP = 1 << 0,
  GST_ADVAD_DRAW_CONTOURS = 1 << 1,
  GST_ADVAD_DRAW_BOXES = 1 << 2,
  GST_ADVAD_DRAW_LABEL = 1 << 3,
};
#define GST_ADVAD_DRAW_ALL \
  (GST_ADVAD_DRAW_HEATMAP | GST_ADVAD_DRAW_CONTOURS | GST_ADVAD_DRAW_BOXES | GST_ADVAD_DRAW_LABEL)
GType gst_advad_draw_get_type(void);
#define GST_TYPE_ADVAD_DRAW (gst_advad_draw_get_type())
