// advad launch: runs a gst-launch-1.0 pipeline description the way a recorder
// on a line needs it run.
//
// Why not gst-launch-1.0 itself: it prerolls (PAUSED), waits for ASYNC_DONE and
// then sets PLAYING from its main thread. In GStreamer 1.22 the streaming
// thread that finished the preroll may still be posting the pipeline's
// READY->PAUSED state-changed message at that moment; when it finishes after
// the PLAYING one, GstBin forgets that it reached PLAYING and drops the EOS
// of a finished file: the process never ends (seen with file_to_segments.sh,
// about 1 run in 3 when malloc is slow). Going straight to PLAYING lets the
// bin post PAUSED and PLAYING from one thread, in order.
//
// Like gst-launch-1.0 -e, Ctrl-C / SIGTERM sends EOS so muxers finish their
// files; a second one stops at once.
#include <gst/gst.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/gst_plugin.h"

namespace advad::tools {
namespace {

std::atomic<int> g_interrupts{0};

void on_signal(int) { g_interrupts.fetch_add(1); }

const char kUsage[] =
    "usage: advad launch [--quiet] [--] PIPELINE-DESCRIPTION...\n\n"
    "Run a GStreamer pipeline written as for gst-launch-1.0, e.g.\n"
    "  advad launch filesrc location=line.mp4 ! decodebin ! videoconvert ! advaddetect profile=can.ini \\\n"
    "      ! videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4\n\n"
    "Differences from gst-launch-1.0:\n"
    "  - the pipeline goes straight to PLAYING (GStreamer 1.22's gst-launch-1.0 can lose the end of a\n"
    "    file when its preroll finishes late, and then never exits);\n"
    "  - EOS on Ctrl-C / SIGTERM is the default (gst-launch-1.0 -e): files are finished; a second\n"
    "    signal stops at once;\n"
    "  - the advad plugin is found in the build tree too (no `meson devenv` needed);\n"
    "  - at the end, each advadinfer prints its stats (frames scored, carried, dropped, latency).\n\n"
    "Messages go to stderr, so stdout stays free for e.g. advadoverlay json-location=-.\n\n"
    "options:\n"
    "  --quiet   print only warnings and errors\n"
    "  --help    this text\n\n"
    "exit codes: 0 end of stream, 1 a pipeline error, 2 a bad description or bad input (file, model,\n"
    "profile), 130 stopped by a second signal.\n";

// Every advadinfer in the pipeline, nested bins (advaddetect) included.
std::vector<GstElement*> infer_elements(GstElement* pipeline) {
  std::vector<GstElement*> found;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && std::string(GST_OBJECT_NAME(f)) == "advadinfer") found.push_back(GST_ELEMENT(gst_object_ref(e)));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

// Prints an ERROR or WARNING message ("advad launch: error from <element path>:
// ..."); returns the exit code an ERROR ends the run with: files and models
// the user named (resource / library errors) are bad input (2), the rest 1.
int report(GstMessage* msg) {
  const bool error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
  GError* e = nullptr;
  gchar* debug = nullptr;
  if (error) gst_message_parse_error(msg, &e, &debug);
  else gst_message_parse_warning(msg, &e, &debug);
  gchar* path = gst_object_get_path_string(GST_MESSAGE_SRC(msg));
  std::cerr << "advad launch: " << (error ? "error" : "warning") << " from " << path << ": " << e->message << "\n";
  if (error && debug) std::cerr << "  " << debug << "\n";
  const int code = (e->domain == GST_RESOURCE_ERROR || e->domain == GST_LIBRARY_ERROR) ? 2 : 1;
  g_free(path);
  g_error_free(e);
  g_free(debug);
  return code;
}

}  // namespace

int cmd_launch(int argc, char** argv) {
  bool quiet = false;
  int first = 0;
  for (; first < argc; ++first) {
    const std::string a = argv[first];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--") {
      ++first;
      break;
    } else if (a.rfind("--", 0) == 0) {
      throw cli::UsageError("advad launch: unknown option '" + a + "'\n\n" + kUsage);
    } else {
      break;
    }
  }
  if (first >= argc) throw cli::UsageError(std::string("advad launch: no pipeline description\n\n") + kUsage);

  gst_init(nullptr, nullptr);
  ensure_plugin();
  std::vector<const gchar*> words(argv + first, argv + argc);
  words.push_back(nullptr);
  GError* err = nullptr;
  // gst_parse_launchv quotes each word, so a location with spaces may be one argument.
  GstElement* pipeline = gst_parse_launchv(words.data(), &err);
  if (err) {
    const std::string msg = err->message;
    g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    throw InputError("cannot build the pipeline: " + msg);
  }
  if (!GST_IS_PIPELINE(pipeline)) {  // one element: put it into a pipeline as gst-launch does
    GstElement* p = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(p), pipeline);
    pipeline = p;
  }

  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  GstBus* bus = gst_element_get_bus(pipeline);
  int code = 0;
  bool done = false;
  if (!quiet) std::cerr << "advad launch: playing\n";
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The reason is an ERROR message on the bus; take the first.
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, GST_SECOND, GST_MESSAGE_ERROR);
    code = msg ? report(msg) : 1;
    if (!msg) std::cerr << "advad launch: the pipeline did not start (no error message given)\n";
    if (msg) gst_message_unref(msg);
    done = true;
  }
  int eos_sent_at = 0;
  while (!done) {
    const int interrupts = g_interrupts.load();
    if (interrupts >= 2) {
      std::cerr << "advad launch: stopped\n";
      code = 130;
      break;
    }
    if (interrupts == 1 && eos_sent_at == 0) {
      if (!quiet) std::cerr << "advad launch: interrupted, sending EOS to finish the files (again to stop now)\n";
      gst_element_send_event(pipeline, gst_event_new_eos());
      eos_sent_at = 1;
    }
    GstMessage* msg = gst_bus_timed_pop(bus, 100 * GST_MSECOND);
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS:
        done = true;
        break;
      case GST_MESSAGE_ERROR:
        code = report(msg);
        done = true;
        break;
      case GST_MESSAGE_WARNING:
        report(msg);
        break;
      case GST_MESSAGE_CLOCK_LOST:  // a live clock went away: pick a new one, as gst-launch does
        gst_element_set_state(pipeline, GST_STATE_PAUSED);
        gst_element_set_state(pipeline, GST_STATE_PLAYING);
        break;
      case GST_MESSAGE_LATENCY:
        gst_bin_recalculate_latency(GST_BIN(pipeline));
        break;
      default:
        break;
    }
    gst_message_unref(msg);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  for (GstElement* infer : infer_elements(pipeline)) {
    // An element that failed before its first frame has nothing to report.
    guint64 frames_in = 0;
    GstStructure* st = nullptr;
    g_object_get(infer, "stats", &st, nullptr);
    if (st) {
      gst_structure_get_uint64(st, "frames-in", &frames_in);
      gst_structure_free(st);
    }
    if (!quiet && (code == 0 || frames_in > 0)) {
      gchar* path = gst_object_get_path_string(GST_OBJECT(infer));
      std::cerr << "\n" << path << "\n";
      print_infer_stats(infer, std::cerr);
      g_free(path);
    }
    gst_object_unref(infer);
  }
  gst_object_unref(pipeline);
  if (code == 0 && !quiet) std::cerr << "advad launch: end of stream\n";
  return code;
}

}  // namespace advad::tools
