// advad serve: an RTSP server for the annotated stream of one or more inputs
// (cameras, files, test frames), one mount point per input.
//
// Three parts per input, so that a camera that goes away never takes the
// server, the model or the viewers with it:
//   feed    <input> ! decode ! appsink           rebuilt after an error / EOS
//   detect  appsrc ! videoconvert ! advaddetect ! videoconvert ! intervideosink
//           built once: the model stays loaded, JSON lines keep one run
//   media   intervideosrc ! x264enc ! rtph264pay  one per mount, shared by the
//           clients; intervideosrc paces the stream itself (repeats the last
//           frame, then black after 1 s), so clients stay connected while the
//           camera is away and see live frames again as soon as it is back.
// The feed is torn down on ERROR, EOS or when no frame came for
// --stall-timeout seconds, and rebuilt after a back-off (1 s, doubling up to
// --retry-max); a file input that ends starts again at once (a loop).
#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/profile.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/gst_plugin.h"
#include "tools/profile_arg.h"

namespace fs = std::filesystem;

namespace advad::tools {
namespace {

enum class Kind { Test, Rtsp, Uri, File };

struct Options {
  int fps = 0, keyint = 0, bitrate = 2048, width = 640, height = 480, latency_ms = 200;
  int retry_max = 16, stall_timeout = 10;
  std::string transport = "tcp";
};

struct Input {
  std::string given;   // --input as the user wrote it (for messages)
  std::string source;  // mount point name, advaddetect's `source`
  Kind kind = Kind::Test;
  std::string location;  // rtsp URL, or URI for uridecodebin
  const Options* opt = nullptr;

  GstElement* detect = nullptr;  // persistent pipeline
  GstElement* appsrc = nullptr;  // owned by `detect`
  guint detect_watch = 0;

  GstElement* feed = nullptr;  // current source pipeline, null while waiting to retry
  guint feed_watch = 0;
  guint retry_timer = 0;
  int backoff_s = 1;
  bool was_lost = false;    // lost since the last frame: say "back" on the next one
  bool announced = true;    // "back" said (or nothing to say) for this feed
  gint64 feed_started_us = 0;

  // Written by the feed's streaming thread.
  std::atomic<gint64> last_frame_us{0};
  std::atomic<bool> got_frame{false};
  std::atomic<int> fps_n{0}, fps_d{1};
  std::mutex caps_mu;
  GstCaps* caps = nullptr;  // last caps given to appsrc
};

GMainLoop* g_loop = nullptr;
int g_exit_code = 0;

const char* kind_word(const Input& in) { return in.kind == Kind::Rtsp ? "camera" : "input"; }

std::string channel_of(const Input& in) { return "advad-serve-" + in.source; }

// Rate of the served stream: --fps, else the input's own, else 25.
void served_rate(const Input& in, int& n, int& d) {
  if (in.opt->fps > 0) {
    n = in.opt->fps;
    d = 1;
  } else if (in.fps_n.load() > 0) {
    n = in.fps_n.load();
    d = std::max(1, in.fps_d.load());
  } else {
    n = 25;
    d = 1;
  }
}

// feed -> detect: a shallow copy of the frame stamped with the detection
// pipeline's running time now (the feed's timestamps restart with every rebuild).
GstFlowReturn on_new_sample(GstAppSink* sink, gpointer data) {
  auto* in = static_cast<Input*>(data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample) return GST_FLOW_EOS;
  GstCaps* caps = gst_sample_get_caps(sample);
  {
    std::lock_guard<std::mutex> lock(in->caps_mu);
    if (caps && (!in->caps || !gst_caps_is_equal(caps, in->caps))) {
      gst_caps_replace(&in->caps, caps);
      gst_app_src_set_caps(GST_APP_SRC(in->appsrc), caps);
      GstVideoInfo vi;
      if (gst_video_info_from_caps(&vi, caps)) {
        in->fps_n = GST_VIDEO_INFO_FPS_N(&vi);
        in->fps_d = GST_VIDEO_INFO_FPS_D(&vi);
      }
    }
  }
  GstBuffer* buf = gst_buffer_copy(gst_sample_get_buffer(sample));
  GstClockTime now = GST_CLOCK_TIME_NONE;
  if (GstClock* clock = gst_element_get_clock(in->detect)) {
    now = gst_clock_get_time(clock) - gst_element_get_base_time(in->detect);
    gst_object_unref(clock);
  }
  GST_BUFFER_PTS(buf) = now;
  GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(in->appsrc), buf);
  gst_sample_unref(sample);
  in->last_frame_us = g_get_monotonic_time();
  in->got_frame = true;
  return GST_FLOW_OK;
}

void start_feed(Input* in);

void stop_feed(Input* in) {
  if (in->feed_watch) g_source_remove(in->feed_watch);
  in->feed_watch = 0;
  if (in->feed) {
    gst_element_set_state(in->feed, GST_STATE_NULL);
    gst_object_unref(in->feed);
  }
  in->feed = nullptr;
}

gboolean on_retry(gpointer data) {
  auto* in = static_cast<Input*>(data);
  in->retry_timer = 0;
  start_feed(in);
  return G_SOURCE_REMOVE;
}

void feed_lost(Input* in, const std::string& reason) {
  stop_feed(in);
  std::cerr << "advad serve: " << kind_word(*in) << " " << in->given << " lost; retrying in " << in->backoff_s
            << " s (" << reason << ")\n";
  in->was_lost = true;
  in->announced = false;
  in->got_frame = false;
  in->retry_timer = g_timeout_add_seconds(static_cast<guint>(in->backoff_s), on_retry, in);
  in->backoff_s = std::min(in->backoff_s * 2, in->opt->retry_max);
}

std::string error_text(GstMessage* msg) {
  GError* e = nullptr;
  gchar* debug = nullptr;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) gst_message_parse_error(msg, &e, &debug);
  else gst_message_parse_warning(msg, &e, &debug);
  std::string text = e ? e->message : "unknown error";
  if (e) g_error_free(e);
  g_free(debug);
  return text;
}

gboolean on_feed_message(GstBus*, GstMessage* msg, gpointer data) {
  auto* in = static_cast<Input*>(data);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
      in->feed_watch = 0;  // removed by returning G_SOURCE_REMOVE
      feed_lost(in, error_text(msg));
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_EOS:
      in->feed_watch = 0;
      if (in->kind == Kind::File) {  // a file is played in a loop
        stop_feed(in);
        if (!cli::quiet()) std::cerr << "advad serve: input " << in->given << " ended; playing it again\n";
        start_feed(in);
      } else {
        feed_lost(in, "end of stream");
      }
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_WARNING:
      cli::warn("serve", in->given + ": " + error_text(msg));
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

void start_feed(Input* in) {
  std::string desc;
  switch (in->kind) {
    case Kind::Test:
      desc = "videotestsrc is-live=true ! video/x-raw,width=" + std::to_string(in->opt->width) +
             ",height=" + std::to_string(in->opt->height) +
             ",framerate=" + std::to_string(in->opt->fps > 0 ? in->opt->fps : 10) + "/1";
      break;
    case Kind::Rtsp:
      desc = "rtspsrc name=src ! decodebin";
      break;
    case Kind::Uri:
    case Kind::File:
      desc = "uridecodebin name=src";
      break;
  }
  desc += " ! appsink name=out";
  GError* err = nullptr;
  GstElement* feed = gst_parse_launch(desc.c_str(), &err);
  if (err) {  // only a missing plugin gets here; checked at startup
    const std::string msg = err->message;
    g_error_free(err);
    if (feed) gst_object_unref(feed);
    feed_lost(in, "cannot build '" + desc + "': " + msg);
    return;
  }
  if (GstElement* src = gst_bin_get_by_name(GST_BIN(feed), "src")) {
    if (in->kind == Kind::Rtsp) {
      g_object_set(src, "location", in->location.c_str(), "latency", static_cast<guint>(in->opt->latency_ms),
                   nullptr);
      const std::string& t = in->opt->transport;
      gst_util_set_object_arg(G_OBJECT(src), "protocols", t == "any" ? "udp+udp-mcast+tcp" : t.c_str());
    } else {
      g_object_set(src, "uri", in->location.c_str(), nullptr);
    }
    gst_object_unref(src);
  }
  GstElement* out = gst_bin_get_by_name(GST_BIN(feed), "out");
  GstCaps* raw = gst_caps_from_string("video/x-raw");
  // A file plays at its own speed (sync); live frames are taken as they come.
  g_object_set(out, "caps", raw, "sync", in->kind == Kind::File, "max-buffers", 2u, "drop", TRUE, nullptr);
  gst_caps_unref(raw);
  GstAppSinkCallbacks cb = {};
  cb.new_sample = on_new_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(out), &cb, in, nullptr);
  gst_object_unref(out);

  in->feed = feed;
  in->feed_started_us = g_get_monotonic_time();
  in->got_frame = false;
  GstBus* bus = gst_element_get_bus(feed);
  in->feed_watch = gst_bus_add_watch(bus, on_feed_message, in);
  if (gst_element_set_state(feed, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    const std::string reason = msg ? error_text(msg) : "the input did not start";
    if (msg) gst_message_unref(msg);
    gst_object_unref(bus);
    feed_lost(in, reason);
    return;
  }
  gst_object_unref(bus);
}

// Once a second: "back" after a loss, and the stall watchdog (a camera that
// keeps its connection open but sends nothing).
gboolean on_watchdog(gpointer data) {
  auto* inputs = static_cast<std::vector<std::unique_ptr<Input>>*>(data);
  const gint64 now = g_get_monotonic_time();
  for (auto& p : *inputs) {
    Input* in = p.get();
    if (!in->feed) continue;
    if (in->got_frame && !in->announced) {
      in->announced = true;
      in->backoff_s = 1;
      if (in->was_lost) std::cerr << "advad serve: " << kind_word(*in) << " " << in->given << " back\n";
      in->was_lost = false;
    }
    const gint64 last = in->got_frame ? std::max(in->last_frame_us.load(), in->feed_started_us) : in->feed_started_us;
    if (now - last > static_cast<gint64>(in->opt->stall_timeout) * G_USEC_PER_SEC)
      feed_lost(in, "no frame for " + std::to_string(in->opt->stall_timeout) + " s");
  }
  return G_SOURCE_CONTINUE;
}

gboolean on_detect_message(GstBus*, GstMessage* msg, gpointer data) {
  auto* in = static_cast<Input*>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    gchar* path = gst_object_get_path_string(GST_MESSAGE_SRC(msg));
    std::cerr << "advad serve: error in the detection of " << in->source << " from " << path << ": "
              << error_text(msg) << "\n";
    g_free(path);
    g_exit_code = 1;
    g_main_loop_quit(g_loop);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
    cli::warn("serve", in->source + ": " + error_text(msg));
  }
  return G_SOURCE_CONTINUE;
}

// A new media for a mount (the first client): its rate and key frame interval.
void on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
  auto* in = static_cast<Input*>(data);
  int n = 25, d = 1;
  served_rate(*in, n, d);
  GstElement* bin = gst_rtsp_media_get_element(media);
  if (GstElement* rate = gst_bin_get_by_name(GST_BIN(bin), "rate")) {
    GstCaps* caps = gst_caps_new_simple("video/x-raw", "framerate", GST_TYPE_FRACTION, n, d, nullptr);
    g_object_set(rate, "caps", caps, nullptr);
    gst_caps_unref(caps);
    gst_object_unref(rate);
  }
  if (GstElement* enc = gst_bin_get_by_name(GST_BIN(bin), "enc")) {
    // Default: a key frame every second, so a new client starts within a second.
    const int keyint = in->opt->keyint > 0 ? in->opt->keyint : std::max(1, (n + d - 1) / d);
    g_object_set(enc, "key-int-max", static_cast<guint>(keyint), "bitrate", static_cast<guint>(in->opt->bitrate),
                 nullptr);
    gst_object_unref(enc);
  }
  gst_object_unref(bin);
}

gboolean on_signal(gpointer) {
  if (!cli::quiet()) std::cerr << "advad serve: stopping\n";
  g_main_loop_quit(g_loop);
  return G_SOURCE_CONTINUE;
}

GstRTSPFilterResult remove_client(GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; }

bool valid_source_name(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

// --input and --source may be given several times (pairs, in order); Args
// keeps one value per flag, so they are taken out of argv first.
void take_repeated(int argc, char** argv, std::vector<std::string>& inputs, std::vector<std::string>& sources,
                   std::vector<char*>& rest) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    std::vector<std::string>* into = nullptr;
    std::string name;
    for (const char* flag : {"input", "source"}) {
      const std::string f = std::string("--") + flag;
      if (a == f || a.rfind(f + "=", 0) == 0) {
        into = std::string(flag) == "input" ? &inputs : &sources;
        name = f;
      }
    }
    if (!into) {
      rest.push_back(argv[i]);
      continue;
    }
    if (a.size() > name.size()) {
      into->push_back(a.substr(name.size() + 1));
    } else {
      if (i + 1 >= argc) throw cli::UsageError("advad serve: " + name + " needs a value");
      into->push_back(argv[++i]);
    }
  }
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  cli::Args args("serve",
                 "Serve the annotated stream of each input over RTSP at rtsp://<address>:<port>/<source>:\n"
                 "  <input> ! decode ! videoconvert ! advaddetect ! videoconvert ! x264enc ! rtph264pay\n"
                 "Several --input (each with its own --source, in order) give several mount points, scored by\n"
                 "one shared model. The URLs are printed on stderr once the server listens; it runs until\n"
                 "SIGINT / SIGTERM (exit 0).\n\n"
                 "A camera that fails, ends or sends no frame for --stall-timeout s is reconnected after a\n"
                 "back-off (1 s, doubling up to --retry-max): 'camera <uri> lost; retrying in N s', then\n"
                 "'camera <uri> back'. The server, the model and connected clients stay up meanwhile (clients\n"
                 "see the last frame, then black). Detection runs whether or not anyone watches: --json gets\n"
                 "every frame. A file input is played in a loop at its own speed.");
  args.option("input", "SRC",
              "rtsp://... camera, another URI (http://, file://), a video file, or 'test' (live test frames); "
              "repeat for more mount points (required)")
      .option("source", "NAME",
              "mount point and JSON 'source' of the --input at the same position (letters, digits, - _ .); "
              "default stream, stream2, ...")
      .option("profile", "FILE", "category profile (.ini) or model package folder (this or --model is required)")
      .option("model", "DIR", "model package folder (overrides the profile's model)")
      .option("address", "ADDR", "address to listen on; 127.0.0.1 for this machine only", "0.0.0.0")
      .option("port", "N", "RTSP port, 0..65535; 0 = a free port (see the printed URL)", "8554")
      .option("json", "FILE",
              "one JSON line per frame; '{source}' in the name is replaced by the source (needed with several "
              "inputs); '-' = stdout")
      .option("device", "DEV", "where the model runs: auto, cpu, cuda or cuda:N", "auto")
      .option("threads", "N", "LibTorch CPU threads; 0 = all cores", "0")
      .option("precision", "P", "auto | fp32 | fp16 | bf16 | int8 (as advaddetect's precision)", "auto")
      .option("interval", "N", "score every N-th frame, the others carry the last result (inference-interval)", "1")
      .option("threshold", "T", "override the profile's threshold (model score units)")
      .option("fps", "F", "frame rate of the served stream (and of test frames); 0 = the input's own (test: 10)",
              "0")
      .option("keyint", "N", "frames between key frames; 0 = one second's worth (a new client starts within it)",
              "0")
      .option("bitrate", "KBPS", "H.264 bit rate in kbit/s, 16..100000", "2048")
      .option("width", "W", "with --input test: frame width", "640")
      .option("height", "H", "with --input test: frame height", "480")
      .option("transport", "T", "rtsp inputs: tcp, udp or any (udp first, then tcp)", "tcp")
      .option("latency", "MS", "rtsp inputs: jitter buffer in milliseconds, 0..10000", "200")
      .option("retry-max", "S", "longest wait between reconnection tries, 1..3600 s", "16")
      .option("stall-timeout", "S", "a connected input that sends no frame for this long is reconnected, 1..3600 s",
              "10")
      .quiet_flag();
  std::vector<std::string> given_inputs, given_sources;
  std::vector<char*> rest;
  take_repeated(argc, argv, given_inputs, given_sources, rest);
  if (!args.parse(static_cast<int>(rest.size()), rest.data())) return 0;

  auto bad = [](const std::string& what) { return cli::UsageError("advad serve: " + what); };
  if (given_inputs.empty()) throw bad("--input is required (rtsp://..., a video file or 'test')");
  if (given_sources.size() > given_inputs.size())
    throw bad("more --source (" + std::to_string(given_sources.size()) + ") than --input (" +
              std::to_string(given_inputs.size()) + ")");
  if (!args.has("profile") && !args.has("model"))
    throw bad("--profile or --model is required (a .ini or a model package folder)");
  auto ranged = [&](const char* name, int lo, int hi) {
    const int v = args.integer(name);
    if (v < lo || v > hi)
      throw bad("--" + std::string(name) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                ", got " + std::to_string(v));
    return v;
  };
  Options opt;
  const int port = ranged("port", 0, 65535);
  opt.fps = ranged("fps", 0, 240);
  opt.keyint = ranged("keyint", 0, 10000);
  opt.bitrate = ranged("bitrate", 16, 100000);
  opt.width = ranged("width", 32, 8192);
  opt.height = ranged("height", 32, 8192);
  opt.latency_ms = ranged("latency", 0, 10000);
  opt.retry_max = ranged("retry-max", 1, 3600);
  opt.stall_timeout = ranged("stall-timeout", 1, 3600);
  const int threads = ranged("threads", 0, 1024);
  const int interval = ranged("interval", 1, 1000000);
  opt.transport = args.str("transport");
  if (opt.transport != "tcp" && opt.transport != "udp" && opt.transport != "any")
    throw bad("--transport must be tcp, udp or any, got '" + opt.transport + "'");
  const double threshold = args.has("threshold") ? args.number("threshold") : -1.0;
  if (args.has("threshold") && threshold < 0) throw bad("--threshold must be >= 0");
  const std::string address = args.str("address");
  if (!g_hostname_is_ip_address(address.c_str()))
    throw bad("--address must be an IP address (e.g. 0.0.0.0 or 127.0.0.1), got '" + address + "'");

  // A bad profile or model is exit 2 naming the file, before any pipeline.
  std::string ini, model;
  if (args.has("model")) {
    model = args.str("model");
    if (!fs::is_directory(model)) throw InputError("--model '" + model + "' is not a model package folder");
    load_profile(resolve_profile_path(model, "serve"));
  }
  if (args.has("profile")) {
    ini = resolve_profile_path(args.str("profile"), "serve");
    load_profile(ini, /*check_model_file=*/model.empty());
  }

  std::vector<std::unique_ptr<Input>> inputs;
  for (size_t i = 0; i < given_inputs.size(); ++i) {
    auto in = std::make_unique<Input>();
    in->given = given_inputs[i];
    in->opt = &opt;
    in->source = i < given_sources.size() ? given_sources[i] : (i == 0 ? "stream" : "stream" + std::to_string(i + 1));
    if (!valid_source_name(in->source))
      throw bad("--source '" + in->source + "' is not a mount point name (letters, digits, - _ . only)");
    for (const auto& other : inputs)
      if (other->source == in->source) throw bad("--source '" + in->source + "' is given to two inputs");
    const std::string& g = in->given;
    if (g == "test") {
      in->kind = Kind::Test;
    } else if (g.rfind("rtsp://", 0) == 0 || g.rfind("rtsps://", 0) == 0 || g.rfind("rtspt://", 0) == 0) {
      in->kind = Kind::Rtsp;
      in->location = g;
    } else if (gst_uri_is_valid(g.c_str())) {
      in->kind = g.rfind("file://", 0) == 0 ? Kind::File : Kind::Uri;
      in->location = g;
    } else {
      if (!fs::is_regular_file(g))
        throw InputError("--input '" + g + "' is no file; give rtsp://..., a URI, a video file or 'test'");
      gchar* uri = gst_filename_to_uri(g.c_str(), nullptr);
      in->kind = Kind::File;
      in->location = uri;
      g_free(uri);
    }
    inputs.push_back(std::move(in));
  }
  std::string json = args.str("json");
  if (inputs.size() > 1 && !json.empty() && json.find("{source}") == std::string::npos)
    throw bad("--json needs '{source}' in its name with several inputs (one file per input)");

  gst_init(nullptr, nullptr);
  ensure_plugin();
  require_element("x264enc", "gstreamer1.0-plugins-ugly");
  require_element("rtph264pay", "gstreamer1.0-plugins-good");
  require_element("rtspsrc", "gstreamer1.0-plugins-good");
  require_element("intervideosrc", "gstreamer1.0-plugins-bad");

  g_loop = g_main_loop_new(nullptr, FALSE);

  // The detection pipelines first: the model loads (and fails) before the server listens.
  for (auto& p : inputs) {
    Input* in = p.get();
    const std::string desc =
        "appsrc name=in is-live=true format=time max-buffers=2 leaky-type=downstream ! videoconvert "
        "! advaddetect name=detect ! videoconvert ! intervideosink sync=false channel=" +
        channel_of(*in);
    GError* err = nullptr;
    in->detect = gst_parse_launch(desc.c_str(), &err);
    if (err) {
      const std::string msg = err->message;
      g_error_free(err);
      throw Error("cannot build the pipeline '" + desc + "': " + msg);
    }
    in->appsrc = gst_bin_get_by_name(GST_BIN(in->detect), "in");
    gst_object_unref(in->appsrc);  // the pipeline keeps it alive
    GstElement* detect = gst_bin_get_by_name(GST_BIN(in->detect), "detect");
    if (!ini.empty()) g_object_set(detect, "profile", ini.c_str(), nullptr);
    if (!model.empty()) g_object_set(detect, "model", model.c_str(), nullptr);
    g_object_set(detect, "source", in->source.c_str(), "threads", static_cast<guint>(threads), "inference-interval",
                 static_cast<guint>(interval), "device", args.str("device").c_str(), nullptr);
    gst_util_set_object_arg(G_OBJECT(detect), "precision", args.str("precision").c_str());
    if (threshold >= 0) g_object_set(detect, "threshold", threshold, nullptr);
    if (!json.empty()) {
      std::string file = json;
      for (size_t at; (at = file.find("{source}")) != std::string::npos;) file.replace(at, 8, in->source);
      g_object_set(detect, "json-location", file.c_str(), nullptr);
    }
    gst_object_unref(detect);
    GstBus* bus = gst_element_get_bus(in->detect);
    if (gst_element_set_state(in->detect, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
      std::string text = msg ? error_text(msg) : "the detection pipeline did not start";
      if (msg) gst_message_unref(msg);
      gst_object_unref(bus);
      for (auto& q : inputs)
        if (q->detect) gst_element_set_state(q->detect, GST_STATE_NULL);
      throw InputError(text);  // a profile / model / json-location the elements refused
    }
    in->detect_watch = gst_bus_add_watch(bus, on_detect_message, in);
    gst_object_unref(bus);
  }

  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, address.c_str());
  gst_rtsp_server_set_service(server, std::to_string(port).c_str());
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  for (auto& p : inputs) {
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    // I420 keeps x264 at a 4:2:0 profile every client decodes.
    const std::string launch = "( intervideosrc channel=" + channel_of(*p) +
                               " ! capsfilter name=rate ! videoconvert ! video/x-raw,format=I420"
                               " ! x264enc name=enc tune=zerolatency speed-preset=ultrafast"
                               " ! rtph264pay name=pay0 pt=96 config-interval=-1 )";
    gst_rtsp_media_factory_set_launch(factory, launch.c_str());
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    g_signal_connect(factory, "media-configure", G_CALLBACK(on_media_configure), p.get());
    gst_rtsp_mount_points_add_factory(mounts, ("/" + p->source).c_str(), factory);
  }
  g_object_unref(mounts);
  GError* err = nullptr;
  GSource* listen = gst_rtsp_server_create_source(server, nullptr, &err);
  if (!listen) {
    const std::string msg = err ? err->message : "unknown error";
    if (err) g_error_free(err);
    for (auto& p : inputs) gst_element_set_state(p->detect, GST_STATE_NULL);
    throw InputError("cannot listen on " + address + ":" + std::to_string(port) + ": " + msg +
                     " (another server on that port? try --port 0)");
  }
  g_source_attach(listen, nullptr);

  for (auto& p : inputs) start_feed(p.get());
  const guint watchdog = g_timeout_add_seconds(1, on_watchdog, &inputs);
  const guint sigint = g_unix_signal_add(SIGINT, on_signal, nullptr);
  const guint sigterm = g_unix_signal_add(SIGTERM, on_signal, nullptr);

  const int bound = gst_rtsp_server_get_bound_port(server);
  std::string host = address;
  if (address == "0.0.0.0" || address == "::") host = g_get_host_name();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  for (auto& p : inputs)
    std::cerr << "advad serve: serving " << p->given << " at rtsp://" << host << ":" << bound << "/" << p->source
              << "\n";
  std::cerr << std::flush;

  g_main_loop_run(g_loop);

  // Close the clients (their media stop), then the inputs and the detection.
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_source_remove(watchdog);
  gst_rtsp_server_client_filter(server, remove_client, nullptr);
  g_source_destroy(listen);
  g_source_unref(listen);
  for (auto& p : inputs) {
    Input* in = p.get();
    if (in->retry_timer) g_source_remove(in->retry_timer);
    stop_feed(in);
    g_source_remove(in->detect_watch);
    gst_element_set_state(in->detect, GST_STATE_NULL);
    if (!cli::quiet()) {
      GstElement* detect = gst_bin_get_by_name(GST_BIN(in->detect), "detect");
      std::cerr << "\n" << in->source << "\n";
      print_infer_stats(detect, std::cerr);
      gst_object_unref(detect);
    }
    gst_object_unref(in->detect);
    gst_caps_replace(&in->caps, nullptr);
  }
  g_object_unref(server);
  g_main_loop_unref(g_loop);
  g_loop = nullptr;
  return g_exit_code;
}

}  // namespace advad::tools
