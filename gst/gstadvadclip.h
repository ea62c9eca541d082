// advadclip element (see gstadvadclip.cpp for what it does).
#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_CLIP (gst_advad_clip_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadClip, gst_advad_clip, GST, ADVAD_CLIP, GstBin)
GST_ELEMENT_REGISTER_DECLARE(advadclip);
G_END_DECLS
