// advadtile element (see gstadvadtile.cpp for what it does).
#pragma once
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS
#define GST_TYPE_ADVAD_TILE (gst_advad_tile_get_type())
G_DECLARE_FINAL_TYPE(GstAdvadTile, gst_advad_tile, GST, ADVAD_TILE, GstBaseTransform)
GST_ELEMENT_REGISTER_DECLARE(advadtile);
G_END_DECLS
