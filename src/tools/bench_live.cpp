// advad bench live: does advadinfer keep up with a live camera? One table,
// all rows measured in one run on the same model and frames:
//   standalone  non-live source, sync=false sink: the model's own frame rate
//   live        live source faster than the model into a display-like sink
//               (sync=true qos=true max-lateness=20 ms), the plain chain
//   interval    the same with inference-interval=N: the video's rate
//   no-qos      live source into a sink that neither syncs nor sends QoS:
//               the delay behind the source must stay bounded
// plus the latency advadinfer reports next to the delay measured at the sink.
#include <gst/gst.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/demo_model.h"
#include "core/error.h"
#include "core/model.h"
#include "engine/live_stats.h"
#include "tools/cli.h"
#include "tools/json_out.h"
#include "tools/gst_plugin.h"
#include "tools/subcommands.h"

namespace fs = std::filesystem;

namespace advad::tools {
namespace {

struct Row {
  std::string name;
  double source_fps = 0;   // 0: as fast as the chain takes them
  double seconds = 0;      // first to last frame at the sink (the steady part of the run)
  guint64 frames_out = 0;  // buffers that reached the sink
  guint64 scored = 0, carried = 0, dropped = 0;
  double reported_latency_ms = 0;
  double delay_p95_ms = 0, delay_max_ms = 0;  // clock running time - buffer running time at the sink
  double delay_first_half_p95_ms = 0, delay_second_half_p95_ms = 0;
};

struct Sink {
  std::vector<double> delays_ms;
  guint64 frames = 0;
  double first_s = 0, last_s = 0;  // monotonic time of the first and last frame at the sink
  static void on_handoff(GstElement* sink, GstBuffer* buf, GstPad* pad, gpointer data) {
    auto* self = static_cast<Sink*>(data);
    const double now_s = static_cast<double>(g_get_monotonic_time()) / 1e6;
    if (self->frames++ == 0) self->first_s = now_s;
    self->last_s = now_s;
    GstClock* clock = gst_element_get_clock(sink);
    if (!clock || !GST_BUFFER_PTS_IS_VALID(buf)) {
      if (clock) gst_object_unref(clock);
      return;
    }
    const GstClockTime now = gst_clock_get_time(clock);
    gst_object_unref(clock);
    GstEvent* ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
    if (!ev) return;
    const GstSegment* seg = nullptr;
    gst_event_parse_segment(ev, &seg);
    const GstClockTime rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    gst_event_unref(ev);
    const GstClockTime base = gst_element_get_base_time(sink);
    if (GST_CLOCK_TIME_IS_VALID(rt) && now >= base)
      self->delays_ms.push_back((static_cast<double>(now - base) - static_cast<double>(rt)) / 1e6);
  }
};

double p95(std::vector<double> v) {
  RecentTimes t(v.size() + 1);
  for (double x : v) t.add(x);
  return t.percentile(0.95);
}

Row run_chain(const std::string& name, const std::string& desc, double source_fps, double limit_s) {
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  if (err) {
    const std::string msg = err->message;
    g_error_free(err);
    throw Error("cannot build the pipeline '" + desc + "': " + msg);
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstElement* infer = gst_bin_get_by_name(GST_BIN(pipeline), "infer");
  Sink counter;
  g_signal_connect(sink, "handoff", G_CALLBACK(&Sink::on_handoff), &counter);
  GstBus* bus = gst_element_get_bus(pipeline);
  const auto t0 = std::chrono::steady_clock::now();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  std::string error;
  for (;;) {
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(limit_s * 2 * GST_SECOND) + 30 * GST_SECOND,
                                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!msg) {
      error = "timed out";
      break;
    }
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError* e = nullptr;
      gst_message_parse_error(msg, &e, nullptr);
      error = e->message;
      g_error_free(e);
    }
    gst_message_unref(msg);
    break;
  }
  Row r;
  r.name = name;
  r.source_fps = source_fps;
  GstStructure* stats = nullptr;
  g_object_get(infer, "stats", &stats, nullptr);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (!error.empty()) {
    if (stats) gst_structure_free(stats);
    gst_object_unref(bus);
    gst_object_unref(sink);
    gst_object_unref(infer);
    gst_object_unref(pipeline);
    throw Error("bench live (" + name + "): " + error);
  }
  gst_structure_get_uint64(stats, "scored", &r.scored);
  gst_structure_get_uint64(stats, "carried", &r.carried);
  gst_structure_get_uint64(stats, "dropped-late", &r.dropped);
  gst_structure_get_double(stats, "latency-ms", &r.reported_latency_ms);
  gst_structure_free(stats);
  r.frames_out = counter.frames;
  // Rates over the steady part: from the first frame at the sink to the last
  // (model loading and warm-up excluded), counting the frames after the first.
  r.seconds = counter.frames > 1 ? counter.last_s - counter.first_s
                                 : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!counter.delays_ms.empty()) {
    const auto& d = counter.delays_ms;
    r.delay_p95_ms = p95(d);
    r.delay_max_ms = *std::max_element(d.begin(), d.end());
    const size_t half = d.size() / 2;
    r.delay_first_half_p95_ms = p95(std::vector<double>(d.begin(), d.begin() + static_cast<long>(half)));
    r.delay_second_half_p95_ms = p95(std::vector<double>(d.begin() + static_cast<long>(half), d.end()));
  }
  gst_object_unref(bus);
  gst_object_unref(sink);
  gst_object_unref(infer);
  gst_object_unref(pipeline);
  return r;
}

std::string fmt(double v, int digits = 1) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

int bench_live_main(int argc, char** argv) {
  cli::Args args("bench live",
                 "Does advadinfer keep up with a live camera? Runs, in one process on the same model:\n"
                 "the model standalone (non-live source, sync=false), the plain chain with a live source\n"
                 "faster than the model into a display-like sink (sync=true qos=true max-lateness=20ms),\n"
                 "the same with inference-interval=N, and a live source into a sink without sync or QoS.\n"
                 "Prints one table (scored frames per second, video frames per second, ratio to the\n"
                 "standalone rate, drops, reported latency vs the delay measured at the sink).");
  args.option("profile", "INI", "category profile or model package (default: a generated demo package)")
      .option("size", "WxH", "frame size", "640x480")
      .option("fps", "N", "live source frame rate (choose it faster than the model)", "30")
      .option("seconds", "S", "length of each live run", "8")
      .option("interval", "N", "inference-interval of the third run", "3")
      .option("device", "DEV",
              "advadinfer's device: auto (cuda:0 when LibTorch sees a GPU, else cpu) | cpu | cuda | cuda:N", "auto")
      .option("threads", "N", "advadinfer threads (0 = all cores)", "0")
      .option("json", "FILE", "also write the rows as one JSON object to FILE ('-' = stdout)");
  if (!args.parse(argc, argv)) return 0;
  int w = 0, h = 0;
  char x = 0;
  std::stringstream(args.str("size")) >> w >> x >> h;
  if (x != 'x' || w < 32 || h < 32) throw cli::UsageError("advad bench live: --size must be WxH, at least 32x32");
  const double fps = args.number("fps"), seconds = args.number("seconds");
  const int interval = args.integer("interval"), threads = args.integer("threads");
  if (!(fps >= 1 && fps <= 1000)) throw cli::UsageError("advad bench live: --fps must be 1..1000");
  if (!(seconds >= 1 && seconds <= 3600)) throw cli::UsageError("advad bench live: --seconds must be 1..3600");
  if (interval < 1) throw cli::UsageError("advad bench live: --interval must be >= 1");
  if (threads < 0) throw cli::UsageError("advad bench live: --threads must be >= 0");
  const std::string device_spec = args.str("device");
  std::string device;  // what advadinfer will resolve it to (checked here: a clear error before any pipeline)
  try {
    device = resolve_device(device_spec).str();
  } catch (const ModelError& e) {
    throw cli::UsageError("advad bench live: --device: " + std::string(e.what()));
  }

  gst_init(nullptr, nullptr);
  ensure_plugin();
  std::string profile = args.str("profile");
  fs::path tmp;
  if (profile.empty()) {
    // The demo scorer at a large input: slower than a 30 fps camera on a CPU.
    tmp = fs::temp_directory_path() / ("advad_bench_live_" + std::to_string(::getpid()));
    DemoOptions o;
    o.input_size = 512;
    o.levels = {GridLevel{2, 2}};
    profile = write_demo_package(tmp.string(), o);
  }
  const std::string caps = "video/x-raw,format=RGB,width=" + std::to_string(w) + ",height=" + std::to_string(h);
  const std::string live_caps = caps + ",framerate=" + fmt(fps, 0) + "/1";
  const int live_frames = static_cast<int>(fps * seconds);
  const std::string infer = "advadinfer name=infer threads=" + std::to_string(threads) + " device=" + device_spec +
                            " profile=" + profile;
  const std::string chain = " ! advadpostproc ! advadoverlay";
  const std::string display = " ! fakesink name=sink signal-handoffs=true sync=true qos=true max-lateness=20000000";

  std::vector<Row> rows;
  std::cerr << "bench live: standalone...\n";
  const int standalone_frames = std::max(16, static_cast<int>(seconds * 3));
  rows.push_back(run_chain("standalone (non-live, sync=false)",
                           "videotestsrc num-buffers=" + std::to_string(standalone_frames) + " pattern=ball ! " + caps +
                               " ! " + infer + chain + " ! fakesink name=sink signal-handoffs=true sync=false",
                           0, seconds));
  std::cerr << "bench live: live plain chain...\n";
  rows.push_back(run_chain("live, plain chain", "videotestsrc is-live=true pattern=ball num-buffers=" +
                                                    std::to_string(live_frames) + " ! " + live_caps + " ! " + infer +
                                                    chain + display,
                           fps, seconds));
  std::cerr << "bench live: live, inference-interval=" << interval << "...\n";
  rows.push_back(run_chain("live, inference-interval=" + std::to_string(interval),
                           "videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string(live_frames) + " ! " +
                               live_caps + " ! " + infer + " inference-interval=" + std::to_string(interval) + chain +
                               display,
                           fps, seconds));
  std::cerr << "bench live: live into a sink without sync or QoS...\n";
  rows.push_back(run_chain("live, sink without sync/QoS", "videotestsrc is-live=true pattern=ball num-buffers=" +
                                                              std::to_string(live_frames) + " ! " + live_caps + " ! " +
                                                              infer + chain +
                                                              " ! fakesink name=sink signal-handoffs=true sync=false",
                           fps, seconds));
  if (!tmp.empty()) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }

  const double standalone_rate = (rows[0].scored - 1) / rows[0].seconds;
  std::cout << "advadinfer on a live line: " << w << "x" << h << ", device " << device << ", profile " << profile
            << "\n\n"
            << "| run | source fps | video out fps | scored fps | scored / standalone | dropped late | carried | "
               "reported latency ms | delay at sink p95 ms (1st half / 2nd half) | max delay ms |\n"
            << "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n";
  nlohmann::json out;
  out["frame"] = {{"width", w}, {"height", h}};
  out["profile"] = profile;
  out["device"] = device;
  for (const Row& r : rows) {
    const double scored_fps = (r.scored > 0 ? r.scored - 1 : 0) / r.seconds;
    const double video_fps = (r.frames_out > 0 ? r.frames_out - 1 : 0) / r.seconds;
    std::cout << "| " << r.name << " | " << (r.source_fps > 0 ? fmt(r.source_fps, 0) : "-") << " | "
              << fmt(video_fps) << " | " << fmt(scored_fps) << " | " << fmt(scored_fps / standalone_rate, 2) << " | "
              << r.dropped << " | " << r.carried << " | " << fmt(r.reported_latency_ms) << " | "
              << fmt(r.delay_p95_ms) << " (" << fmt(r.delay_first_half_p95_ms) << " / "
              << fmt(r.delay_second_half_p95_ms) << ") | " << fmt(r.delay_max_ms) << " |\n";
    out["rows"].push_back({{"run", r.name},
                           {"source_fps", r.source_fps},
                           {"seconds", r.seconds},
                           {"video_out_fps", video_fps},
                           {"scored_fps", scored_fps},
                           {"scored_vs_standalone", scored_fps / standalone_rate},
                           {"frames_out", r.frames_out},
                           {"scored", r.scored},
                           {"carried", r.carried},
                           {"dropped_late", r.dropped},
                           {"reported_latency_ms", r.reported_latency_ms},
                           {"delay_p95_ms", r.delay_p95_ms},
                           {"delay_first_half_p95_ms", r.delay_first_half_p95_ms},
                           {"delay_second_half_p95_ms", r.delay_second_half_p95_ms},
                           {"delay_max_ms", r.delay_max_ms}});
  }
  std::cout << "\nscored / standalone: the live chain's model use (goal >= 0.9). Delay: clock running time minus the "
               "frame's running time when it reaches the sink; bounded when the second half is no worse than the "
               "first.\n";
  if (args.has("json")) write_json_output(args.str("json"), out);
  return 0;
}

}  // namespace advad::tools
