// The advad GStreamer elements from the command line: find the plugin (an
// installed one, or the build tree's next to the executable) and check that
// the other elements a pipeline needs are installed.
#pragma once
#include <gst/gst.h>

#include <ostream>

namespace advad::tools {

// gst_init must have run. Throws advad::Error saying how to make it found.
void ensure_plugin();
// Throws advad::Error naming the element and the Debian package to install.
void require_element(const char* name, const char* package);

// Prints advadinfer's `stats` as a two-column table (what `advad run` shows
// at the end): frames in, scored, carried, dropped late, unscored by reason,
// defects, scoring time p50/p95, latency, model.
void print_infer_stats(GstElement* infer, std::ostream& out);

}  // namespace advad::tools
