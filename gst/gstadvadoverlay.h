// advadoverlay element (see gstadvadoverlay.cpp for what it does).
#pragma once
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_OVERLAY (gst_advad_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadOverlay, gst_advad_overlay, GST, ADVAD_OVERLAY, GstBaseTransform)
GST_ELEMENT_REGISTER_DECLARE(advadoverlay);
G_END_DECLS
