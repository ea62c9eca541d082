// advadpostproc element (see gstadvadpostproc.cpp for what it does).
#pragma once
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_POSTPROC (gst_advad_postproc_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadPostproc, gst_advad_postproc, GST, ADVAD_POSTPROC, GstBaseTransform)
GST_ELEMENT_REGISTER_DECLARE(advadpostproc);
G_END_DECLS
