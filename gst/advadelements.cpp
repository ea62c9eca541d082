// The element library's entry points (see advadelements.h), called by the
// plugin stub's plugin_init with the GstPlugin GStreamer registered.
#include "advadelements.h"

#include "advadmeta.h"
#include "gstadvaddetect.h"
#include "gstadvadclip.h"
#include "gstadvadinfer.h"
#include "gstadvadoverlay.h"
#include "gstadvadpostproc.h"
#include "gstadvadpublish.h"
#include "gstadvadtile.h"

extern "C" const char* advad_gst_elements_version(void) { return ADVAD_VERSION; }

extern "C" gboolean advad_gst_register_elements(GstPlugin* plugin) {
  gst_advad_meta_get_info();  // register the meta before any element attaches it
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(advadtile, plugin);
  ok |= GST_ELEMENT_REGISTER(advadinfer, plugin);
  ok |= GST_ELEMENT_REGISTER(advadpostproc, plugin);
  ok |= GST_ELEMENT_REGISTER(advadoverlay, plugin);
  ok |= GST_ELEMENT_REGISTER(advaddetect, plugin);
  ok |= GST_ELEMENT_REGISTER(advadpublish, plugin);
  ok |= GST_ELEMENT_REGISTER(advadclip, plugin);
  return ok;
}
