// The advad GStreamer plugin: advadtile, advadinfer, advadpostproc,
// advadoverlay (one element a file), the advaddetect bin that chains them
// under one profile, and the GstAdvadMeta they share.
#include <gst/gst.h>

#include "advadmeta.h"
#include "gstadvaddetect.h"
#include "gstadvadinfer.h"
#include "gstadvadoverlay.h"
#include "gstadvadpostproc.h"
#include "gstadvadtile.h"

#ifndef PACKAGE
#define PACKAGE "advad"
#endif

static gboolean plugin_init(GstPlugin* plugin) {
  gst_advad_meta_get_info();  // register the meta before any element attaches it
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(advadtile, plugin);
  ok |= GST_ELEMENT_REGISTER(advadinfer, plugin);
  ok |= GST_ELEMENT_REGISTER(advadpostproc, plugin);
  ok |= GST_ELEMENT_REGISTER(advadoverlay, plugin);
  ok |= GST_ELEMENT_REGISTER(advaddetect, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, advad,
                  "Visual anomaly detection on video: tiling, LibTorch inference, post-processing, overlay",
                  plugin_init, ADVAD_VERSION, "LGPL", "advad", "https://github.com/advad/advad")
