// advadinfer element (see gstadvadinfer.cpp for what it does).
#pragma once
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_INFER (gst_advad_infer_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadInfer, gst_advad_infer, GST, ADVAD_INFER, GstBaseTransform)
GST_ELEMENT_REGISTER_DECLARE(advadinfer);
G_END_DECLS
