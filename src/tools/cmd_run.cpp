// advad run: builds and runs the GStreamer pipeline
//   <input> ! advadtile ! advadinfer ! advadpostproc ! advadoverlay ! <MP4 file | fakesink>
// for a profile, with a progress bar and a summary. Inputs: a video file
// (decodebin), an image folder or `test` (synthetic frames with planted
// defects), both fed through appsrc.
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/demo_model.h"
#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "core/tile_layout.h"
#include "data/image_io.h"
#include "data/image_list.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/gst_plugin.h"
#include "tools/profile_arg.h"

namespace fs = std::filesystem;

namespace advad::tools {
namespace {

std::vector<fs::path> image_files(const fs::path& dir) {
  std::vector<fs::path> files = list_images(dir);  // data/image_list.h's rule, sorted by name
  if (files.empty()) throw InputError("image folder '" + dir.string() + "' holds no .png/.jpg/.bmp/.tif/.webp files");
  return files;
}

// One 8-bit frame as a buffer with GStreamer's default strides, plus caps.
GstSample* frame_sample(const cv::Mat& pixels, const char* format, int fps, long index) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), static_cast<guint>(pixels.cols),
                            static_cast<guint>(pixels.rows));
  GST_VIDEO_INFO_FPS_N(&info) = fps;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  const size_t row = static_cast<size_t>(pixels.cols) * pixels.elemSize();
  for (int y = 0; y < pixels.rows; ++y)
    std::memcpy(map.data + static_cast<size_t>(y) * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0), pixels.ptr(y), row);
  gst_buffer_unmap(buf, &map);
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(static_cast<guint64>(index), GST_SECOND, static_cast<guint64>(fps));
  GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, static_cast<guint64>(fps));
  GstCaps* caps = gst_video_info_to_caps(&info);
  GstSample* s = gst_sample_new(buf, caps, nullptr, nullptr);
  gst_caps_unref(caps);
  gst_buffer_unref(buf);
  return s;
}

struct RunResult {
  long frames = 0, defects = 0;
  int code = 0;
};

}  // namespace

int cmd_run(int argc, char** argv) {
  cli::Args args("run",
                 "Run a category profile on video in a GStreamer pipeline:\n"
                 "  <input> ! advadtile ! advadinfer ! advadpostproc ! advadoverlay ! <--output | fakesink>\n"
                 "and print a progress bar and a summary. The same pipeline as a gst-launch-1.0 line is in\n"
                 "pipelines/ (file_to_mp4.sh and friends).");
  args.option("profile", "FILE", "category profile (.ini) or model package folder (required)")
      .option("input", "SRC",
              "a video file (anything decodebin plays), a folder of images (.png/.jpg/.bmp/.tif, sorted by name), "
              "or 'test' for synthetic frames with a defect planted in every 2nd frame",
              "test")
      .option("output", "FILE", "annotated video to write: .mp4 (H.264) or .mkv; none = no video, no drawing")
      .option("json", "FILE", "write one JSON line per frame (frame, pts, wall clock, score, verdict, regions); '-' = stdout")
      .option("device", "DEV", "where the model runs: auto, cpu, cuda or cuda:N", "auto")
      .option("threads", "N", "LibTorch CPU threads; 0 = all cores", "0")
      .option("precision", "P",
              "auto | fp32 | fp16 | bf16 | int8; auto: the profile's [profile] precision, else bf16 where the "
              "device has native bf16 and the method a bf16 path (INP-Former), else fp32",
              "auto")
      .option("interval", "N", "score every N-th frame, the others carry the last result (inference-interval)", "1")
      .option("threshold", "T", "override the profile's threshold (model score units)")
      .option("frames", "N", "with --input test: number of frames", "30")
      .option("width", "W", "with --input test: frame width", "640")
      .option("height", "H", "with --input test: frame height", "480")
      .option("fps", "F", "frame rate given to test frames and image folders", "10")
      .strict_flag()
      .quiet_flag();
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("profile")) throw cli::UsageError("advad run: --profile is required (a .ini or a model package folder)");
  const std::string ini = resolve_profile_path(args.str("profile"), "run");
  // bad profile / missing model / precision the device cannot run: a clear error (exit 2) before any pipeline
  const Profile run_profile = load_profile(ini);
  ModelOptions precision_options;
  precision_options.device = args.str("device");
  precision_options.precision = args.str("precision");
  const std::string precision = resolve_model_precision(run_profile, precision_options).str();
  cli::note("advad run: precision " + precision);
  const std::string input = args.str("input"), output = args.str("output"), json = args.str("json");
  const int fps = args.integer("fps"), interval = args.integer("interval"), threads = args.integer("threads");
  if (fps < 1) throw cli::UsageError("advad run: --fps must be >= 1");
  if (interval < 1) throw cli::UsageError("advad run: --interval must be >= 1");
  if (threads < 0) throw cli::UsageError("advad run: --threads must be >= 0");
  // The element's -1 means "the profile's threshold": a negative override would silently be ignored.
  if (args.has("threshold") && !(args.number("threshold") >= 0))
    throw cli::UsageError("advad run: --threshold " + args.str("threshold") +
                          " is not accepted; accepted: a finite score >= 0 (leave it out for the profile's threshold)");
  const bool test_input = input == "test";
  const bool folder_input = !test_input && fs::is_directory(input);
  if (!test_input && !folder_input && !fs::is_regular_file(input))
    throw InputError("--input '" + input + "' is neither a video file, an image folder nor 'test'");
  std::string ext = fs::path(output).extension().string();
  if (!output.empty() && ext != ".mp4" && ext != ".mkv")
    throw cli::UsageError("advad run: --output must end in .mp4 or .mkv, got '" + output + "'");

  gst_init(nullptr, nullptr);
  ensure_plugin();

  std::vector<fs::path> files;
  long total = 0;
  // Checked whatever the input (they are used only with --input test, but a bad value is never ignored).
  const long frames_flag = args.integer("frames");
  if (frames_flag < 1) throw cli::UsageError("advad run: --frames must be >= 1");
  if (args.integer("width") < 32 || args.integer("height") < 32)
    throw cli::UsageError("advad run: --width and --height must be >= 32");
  if (test_input) {
    total = frames_flag;
  } else if (folder_input) {
    files = image_files(input);
    total = static_cast<long>(files.size());
  }

  std::string desc = (test_input || folder_input) ? "appsrc name=src format=time block=true max-bytes=8000000 ! "
                                                  : "filesrc name=fsrc ! decodebin ! videoconvert ! ";
  desc += "advadtile name=tile ! advadinfer name=infer ! advadpostproc name=post ! advadoverlay name=overlay ! ";
  if (output.empty()) {
    desc += "fakesink sync=false";
  } else {
    require_element("x264enc", "gstreamer1.0-plugins-ugly");
    desc += "videoconvert ! x264enc speed-preset=veryfast ! h264parse ! ";
    desc += ext == ".mp4" ? "mp4mux" : "matroskamux";
    desc += " ! filesink name=fsink";
  }
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  if (err) {
    const std::string msg = err->message;
    g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    throw Error("cannot build the pipeline '" + desc + "': " + msg);
  }
  auto element = [&](const char* name) {
    GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), name);
    gst_object_unref(e);  // the pipeline keeps it alive
    return e;
  };
  g_object_set(element("tile"), "profile", ini.c_str(), nullptr);
  g_object_set(element("infer"), "profile", ini.c_str(), "device", args.str("device").c_str(), "threads",
               static_cast<guint>(threads), "inference-interval", static_cast<guint>(interval), nullptr);
  gst_util_set_object_arg(G_OBJECT(element("infer")), "precision", args.str("precision").c_str());
  if (args.has("threshold")) g_object_set(element("post"), "threshold", args.number("threshold"), nullptr);
  g_object_set(element("overlay"), "metadata-only", output.empty(), nullptr);
  if (!json.empty()) g_object_set(element("overlay"), "json-location", json.c_str(), nullptr);
  if (!output.empty()) g_object_set(element("fsink"), "location", output.c_str(), nullptr);
  if (!test_input && !folder_input) g_object_set(element("fsrc"), "location", input.c_str(), nullptr);

  // Frames for appsrc come from a feeder thread; a blocked push returns when
  // the pipeline stops. Unreadable images: skipped (exit 3), or with --strict
  // the stream ends there and the run fails (exit 2).
  std::thread feeder;
  cli::Skipped unreadable("run", args.on("strict"));
  std::string strict_error;  // set by the feeder before it ends the stream
  if (test_input || folder_input) {
    GstAppSrc* src = GST_APP_SRC(element("src"));
    const int w = args.integer("width"), h = args.integer("height");
    const TilingSpec tiling = run_profile.tiling;
    feeder = std::thread([src, files, total, test_input, fps, w, h, tiling, &unreadable, &strict_error] {
      long pushed = 0;
      for (long i = 0; i < total; ++i) {
        cv::Mat pixels;
        try {
          // read_image_rgb turns every decoder failure (OpenCV throws on a header
          // that declares more than its pixel limit) into an InputError naming the file.
          pixels = test_input ? make_synthetic_frame(w, h, i % 2 == 1, static_cast<uint32_t>(i))
                              : read_image_rgb(files[static_cast<size_t>(i)].string());
          // An image the profile cannot tile (e.g. 1x1 for a 2x2 grid) is skipped and named here;
          // in the pipeline it would end the whole run without naming the file.
          make_tile_layout(pixels.cols, pixels.rows, tiling);
        } catch (const std::exception& e) {
          try {
            unreadable.add(test_input ? "test frame " + std::to_string(i) : files[static_cast<size_t>(i)].string(),
                           e.what());
          } catch (const Error& strict) {
            strict_error = strict.what();
            break;
          }
          continue;
        }
        // Timestamps count the frames pushed: a skipped image leaves no gap in the stream.
        GstSample* s = frame_sample(pixels, "RGB", fps, pushed++);
        const GstFlowReturn ret = gst_app_src_push_sample(src, s);
        gst_sample_unref(s);
        if (ret != GST_FLOW_OK) return;
      }
      gst_app_src_end_of_stream(src);
    });
  }

  RunResult result;
  cli::Progress progress("advad run", total);
  if (json == "-") cli::set_quiet(true);  // stdout carries the JSON lines
  const bool quiet = cli::quiet();
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  for (bool done = false; !done;) {
    GstMessage* msg = gst_bus_timed_pop(bus, 200 * GST_MSECOND);
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_ERROR: {
        GError* e = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(msg, &e, &debug);
        std::cerr << (quiet ? "" : "\n") << "advad run: error from " << GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)) << ": "
                  << e->message << "\n  " << (debug ? debug : "") << "\n";
        // Files and models the user named: exit 2 (bad input); anything else: 1.
        result.code = (e->domain == GST_RESOURCE_ERROR || e->domain == GST_LIBRARY_ERROR) ? 2 : 1;
        g_error_free(e);
        g_free(debug);
        done = true;
        break;
      }
      case GST_MESSAGE_EOS: done = true; break;
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* s = gst_message_get_structure(msg);
        if (gst_structure_has_name(s, "advad-detection")) {
          ++result.frames;
          gboolean anomalous = FALSE;
          gst_structure_get_boolean(s, "anomalous", &anomalous);
          result.defects += anomalous ? 1 : 0;
          if (total == 0) {  // a video: frames = duration x frame rate, once known
            gint64 duration = -1;
            GstPad* pad = gst_element_get_static_pad(element("infer"), "sink");
            GstCaps* caps = gst_pad_get_current_caps(pad);
            gint n = 0, d = 1;
            if (caps && gst_element_query_duration(pipeline, GST_FORMAT_TIME, &duration) && duration > 0 &&
                gst_structure_get_fraction(gst_caps_get_structure(caps, 0), "framerate", &n, &d) && n > 0)
              total = static_cast<long>(gst_util_uint64_scale(static_cast<guint64>(duration), static_cast<guint64>(n),
                                                              static_cast<guint64>(d) * GST_SECOND));
            if (caps) gst_caps_unref(caps);
            gst_object_unref(pad);
            if (total > 0) progress = cli::Progress("advad run", total);
          }
          if (!quiet) progress.update(result.frames, "defects " + std::to_string(result.defects));
        }
        break;
      }
      default: break;
    }
    gst_message_unref(msg);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (feeder.joinable()) feeder.join();
  gst_object_unref(bus);
  // The element's own count of every frame (kept after it stopped).
  std::ostringstream stats;
  if (GstElement* infer = gst_bin_get_by_name(GST_BIN(pipeline), "infer")) {
    print_infer_stats(infer, stats);
    gst_object_unref(infer);
  }
  gst_object_unref(pipeline);
  if (result.code != 0) return result.code;
  if (!strict_error.empty()) throw InputError(strict_error);
  if (!quiet) progress.finish("defects " + std::to_string(result.defects));
  std::cerr << "advad run: " << result.frames << " frames, " << result.defects << " with defects";
  if (!output.empty()) std::cerr << "; video " << output;
  if (!json.empty() && json != "-") std::cerr << "; JSON lines " << json;
  std::cerr << "; precision " << precision << "\n";
  if (!quiet) std::cerr << "\n" << stats.str();
  return unreadable.finish(static_cast<size_t>(total));
}

}  // namespace advad::tools
