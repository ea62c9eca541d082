// The two libraries of the advad plugin. libgstadvad.so (plugin.cpp) is the
// small library GStreamer registers: it links GStreamer only, so libgomp
// (LibTorch's OpenMP runtime) is not loaded yet when its plugin_init runs.
// There it chooses passive OpenMP waits and then loads the element library
// (advadelements.cpp + the element files, linked with libadvad/LibTorch)
// and calls its two functions below.
#pragma once
#include <gmodule.h>
#include <gst/gst.h>

// The element library's file name. Not ending in ".so" on purpose: GStreamer
// dlopens every *.so under GST_PLUGIN_PATH while scanning for plugins, which
// would load LibTorch (and libgomp) before the stub could set the wait policy.
#define ADVAD_GST_ELEMENTS_FILE "libgstadvad-elements.so.0"
#define ADVAD_GST_VERSION_SYMBOL "advad_gst_elements_version"
#define ADVAD_GST_REGISTER_SYMBOL "advad_gst_register_elements"

extern "C" {
// The advad version the element library was built as (the stub refuses another).
G_MODULE_EXPORT const char* advad_gst_elements_version(void);
// Registers advadtile, advadinfer, advadpostproc, advadoverlay, advaddetect,
// advadclip, advadpublish and GstAdvadMeta on `plugin` (the stub's GstPlugin).
G_MODULE_EXPORT gboolean advad_gst_register_elements(GstPlugin* plugin);
}
