// advadpublish element (see gstadvadpublish.cpp for what it does).
#pragma once
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_PUBLISH (gst_advad_publish_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadPublish, gst_advad_publish, GST, ADVAD_PUBLISH, GstBaseTransform)
GST_ELEMENT_REGISTER_DECLARE(advadpublish);
G_END_DECLS
