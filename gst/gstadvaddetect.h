// advaddetect element (see gstadvaddetect.cpp for what it does).
#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_DETECT (gst_advad_detect_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadDetect, gst_advad_detect, GST, ADVAD_DETECT, GstBin)
GST_ELEMENT_REGISTER_DECLARE(advaddetect);
G_END_DECLS
