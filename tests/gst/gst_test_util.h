// Helpers for the advad GStreamer tests: a demo model package in a temp
// folder, frames in any supported format, bus waiting with timeouts.
#pragma once
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/demo_model.h"
#include "test_support.h"
#include "gst/advadmeta.h"

namespace advad::gsttest {

// gst_init once, and fail loudly if the build tree's plugin is not the one
// the registry found.
void init_gstreamer();

// A fresh folder under the system temp dir, removed with the object.
using TempDir = advad::test::TempDir;

// The demo package (TorchScript scorer + profile.ini, 2x2 tiles), written
// once per test process. Returns the profile path.
const std::string& demo_profile_path();
const std::string& demo_package_dir();

// A TorchScript scorer package (profile.ini + model.pt) that misbehaves on
// purpose on bright frames (mean brightness > 0.9) only, so the warm-up on a
// black frame passes: fault "nan" / "inf" (every pixel), "shape" (a map with
// two channels), "constant" (all zeros), or "none". `work` adds that many
// elementwise passes per call (a slower model); `ballast_mb` adds an unused
// buffer of that size to the module (a bigger model). Returns the profile path.
struct FaultyOptions {
  std::string fault = "none";
  int work = 0;
  int ballast_mb = 0;
  std::vector<GridLevel> levels{GridLevel{2, 2}};
  double threshold = 0.5;
};
std::string write_faulty_package(const std::string& dir, const FaultyOptions& options);

// RGB frames of one grey level (bright ones trigger the faults above).
cv::Mat flat_frame(int w, int h, int level);

// gst_parse_launch that fails the test (naming the description) on a parse error.
GstElement* launch(const std::string& description);
// Collects what reaches the appsink named "sink" of `pipeline` into `c`.
struct Collected;
void attach_sink(GstElement* pipeline, Collected* c);

// The JSON lines of a file advadoverlay wrote, parsed.
std::vector<nlohmann::json> read_json_lines(const std::string& file);

// Resident memory of this process in bytes (/proc/self/statm).
size_t resident_bytes();

// The formats every element must take.
const std::vector<std::string>& all_formats();

// Converts an 8-bit RGB frame to `format` (alpha/x bytes 255) and wraps it in
// a buffer with the default GStreamer strides.
GstBuffer* frame_buffer(const cv::Mat& rgb, const std::string& format, GstClockTime pts = GST_CLOCK_TIME_NONE,
                        GstClockTime duration = GST_CLOCK_TIME_NONE);
std::string video_caps(const std::string& format, int w, int h, int fps = 10);

// Copy of a buffer's bytes (to compare pixels before/after).
std::vector<guint8> buffer_bytes(GstBuffer* buf);

// Runs a launched pipeline until EOS or ERROR (or the timeout); returns the
// first ERROR message (caller unrefs) or null on EOS. Collects element
// messages named `element_message` and WARNING texts on the way.
struct BusRun {
  GstMessage* error = nullptr;
  bool eos = false;
  bool timed_out = false;
  std::vector<GstStructure*> element_messages;  // owned copies
  std::vector<GstStructure*> all_element_messages;  // every element message (owned copies)
  std::vector<std::string> warning_sources;        // the element that posted each warning
  std::vector<std::string> warnings;
  ~BusRun();
  std::string error_text() const;  // message + debug text of the error
};
// on_message, when set, sees every message first (e.g. to change a property
// mid-stream); it runs on the test thread.
void run_pipeline(GstElement* pipeline, BusRun* run, const char* element_message = "advad-detection",
                  double timeout_s = 60, const std::function<void(GstMessage*)>& on_message = nullptr);
// The structures named `name` among all element messages.
std::vector<const GstStructure*> messages_named(const BusRun& run, const char* name);

// The advad result on a buffer, through the registered meta API (the plugin
// is loaded at run time, so its C functions are not linked into the tests).
inline AdvadResultPtr result_of(GstBuffer* buf) {
  const GType api = g_type_from_name("GstAdvadMetaAPI");
  auto* m = api ? reinterpret_cast<GstAdvadMeta*>(gst_buffer_get_meta(buf, api)) : nullptr;
  return m ? *m->result : nullptr;
}

// Collects what reaches an appsink (samples keep buffers and caps).
struct Collected {
  std::mutex mutex;
  std::vector<GstSample*> samples;
  ~Collected() {
    for (auto* s : samples) gst_sample_unref(s);
  }
  static GstFlowReturn on_sample(GstAppSink* sink, gpointer data) {
    auto* self = static_cast<Collected*>(data);
    GstSample* s = gst_app_sink_pull_sample(sink);
    std::lock_guard<std::mutex> lock(self->mutex);
    self->samples.push_back(s);
    return GST_FLOW_OK;
  }
};

}  // namespace advad::gsttest
