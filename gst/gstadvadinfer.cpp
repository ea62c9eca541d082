// advadinfer: scores each frame with the category's model. It crops and
// resizes the frame's tiles into one batch, runs the model, stitches the tile
// maps into one anomaly map in frame coordinates, and attaches map + frame
// score to the buffer (GstAdvadMeta). Pixels pass through untouched.
//
// The model is loaded (and run once on a black frame, to warm up and to
// check its output) when the element goes READY -> PAUSED, never in the
// streaming thread. The layout comes from advadtile's meta when present and
// made for this frame size; otherwise advadinfer computes it from its own
// profile. With inference-interval N a frame is scored when N frames have
// passed since the last scored one (and on the first frame and after a size
// change); the others carry the last map, marked carried=true.
#include "gstadvadinfer.h"

#include <gst/video/video.h>

#include <atomic>
#include <chrono>

#include "advadcommon.h"
#include "advadenums.h"
#include "advadmeta.h"
#include "core/error.h"
#include "core/model.h"
#include "render/frame_scorer.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_infer_debug);
#define GST_CAT_DEFAULT gst_advad_infer_debug

namespace {

struct InferSettings {
  std::string profile;
  std::string model;
  std::string device = "auto";
  guint batch_size = 0;
  guint interval = 1;
  guint threads = 0;
  GstAdvadPrecision precision = GST_ADVAD_PRECISION_FP32;
};

}  // namespace

struct InferState {
  InferSettings settings;  // guarded by the object lock
  // Streaming state (streaming thread, or start/stop while it is not running).
  std::unique_ptr<advad::FrameScorer> scorer;
  std::shared_ptr<const advad::Profile> profile;
  std::shared_ptr<const advad::TileLayout> layout;  // for the current caps
  GstVideoInfo info;
  advad::PixelFormat format = advad::PixelFormat::RGB;
  std::shared_ptr<const advad::AnomalyMap> last_map;
  guint64 frames = 0, last_scored = 0;
  double mean_seconds = 0;                     // running mean of the per-frame scoring time
  guint64 timed_frames = 0;                    // scored frames behind mean_seconds
  gint64 last_latency_post_us = 0;             // monotonic time of the last LATENCY message
  std::atomic<GstClockTime> latency{0};        // what the latency query adds
  gboolean warned_caps = FALSE;
};

struct _GstAdvadInfer {
  GstBaseTransform parent;
  InferState* st;
};

G_DEFINE_TYPE(GstAdvadInfer, gst_advad_infer, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadinfer, "advadinfer", GST_RANK_NONE, GST_TYPE_ADVAD_INFER)

enum { PROP_0, PROP_PROFILE, PROP_MODEL, PROP_DEVICE, PROP_BATCH_SIZE, PROP_INTERVAL, PROP_THREADS, PROP_PRECISION };

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

static std::string str_or_empty(const GValue* v) { return g_value_get_string(v) ? g_value_get_string(v) : ""; }

static void gst_advad_infer_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_INFER(object);
  GST_OBJECT_LOCK(self);
  InferSettings& s = self->st->settings;
  switch (id) {
    case PROP_PROFILE: s.profile = str_or_empty(value); break;
    case PROP_MODEL: s.model = str_or_empty(value); break;
    case PROP_DEVICE: s.device = str_or_empty(value).empty() ? "auto" : str_or_empty(value); break;
    case PROP_BATCH_SIZE: s.batch_size = g_value_get_uint(value); break;
    case PROP_INTERVAL: s.interval = g_value_get_uint(value); break;
    case PROP_THREADS: s.threads = g_value_get_uint(value); break;
    case PROP_PRECISION: s.precision = static_cast<GstAdvadPrecision>(g_value_get_enum(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_advad_infer_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_INFER(object);
  GST_OBJECT_LOCK(self);
  const InferSettings& s = self->st->settings;
  switch (id) {
    case PROP_PROFILE: g_value_set_string(value, s.profile.c_str()); break;
    case PROP_MODEL: g_value_set_string(value, s.model.c_str()); break;
    case PROP_DEVICE: g_value_set_string(value, s.device.c_str()); break;
    case PROP_BATCH_SIZE: g_value_set_uint(value, s.batch_size); break;
    case PROP_INTERVAL: g_value_set_uint(value, s.interval); break;
    case PROP_THREADS: g_value_set_uint(value, s.threads); break;
    case PROP_PRECISION: g_value_set_enum(value, s.precision); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_advad_infer_start(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  GST_OBJECT_LOCK(self);
  const InferSettings s = st->settings;
  GST_OBJECT_UNLOCK(self);

  // A model package folder holds its profile: `model=<dir>` alone is enough.
  const bool model_is_package = !s.model.empty() && g_file_test(s.model.c_str(), G_FILE_TEST_IS_DIR);
  const std::string profile_path = !s.profile.empty() ? s.profile : (model_is_package ? s.model : "");
  auto loaded = advad_load_profile(GST_ELEMENT(self), profile_path, s.model.empty());
  if (!loaded) return FALSE;
  auto profile = std::make_shared<advad::Profile>(*loaded);
  if (!s.model.empty() && !(model_is_package && s.profile.empty())) {
    if (!g_file_test(s.model.c_str(), G_FILE_TEST_EXISTS)) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Model '%s' does not exist.", s.model.c_str()),
                        ("Set the 'model' property to the model file or package made by `advad train` / "
                         "`advad import`, or unset it to use the profile's model."));
      return FALSE;
    }
    profile->model = s.model;
  }
  st->profile = profile;

  advad::ModelOptions options;
  options.device = s.device;
  options.precision = gst_advad_precision_name(s.precision);
  options.threads = static_cast<int>(s.threads);
  try {
    st->scorer = std::make_unique<advad::FrameScorer>(profile, advad::create_model(*profile, options),
                                                      static_cast<int>(s.batch_size));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Cannot load model '%s': %s", profile->model.c_str(), e.what()),
                      ("Check that the file is a model package for method '%s' made by this version of advad "
                       "(profile %s); re-create it with `advad train` or `advad import` if it is damaged.",
                       advad::to_string(profile->method).c_str(), profile->path.c_str()));
    return FALSE;
  }
  try {
    const double seconds = st->scorer->warm_up();
    st->latency = static_cast<GstClockTime>(seconds * GST_SECOND);
    GST_INFO_OBJECT(self, "%s; warm-up frame took %.1f ms", st->scorer->model().describe().c_str(), seconds * 1e3);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Model '%s' failed on a test frame: %s", profile->model.c_str(), e.what()),
                      ("The model does not produce anomaly maps as profile %s describes them (input %dx%d); "
                       "check that model and profile belong together.",
                       profile->path.c_str(), profile->input.width, profile->input.height));
    st->scorer.reset();
    return FALSE;
  }
  st->frames = st->last_scored = 0;
  st->last_map.reset();
  st->mean_seconds = 0;
  st->timed_frames = 0;
  st->last_latency_post_us = g_get_monotonic_time();
  return TRUE;
}

static gboolean gst_advad_infer_stop(GstBaseTransform* trans) {
  InferState* st = GST_ADVAD_INFER(trans)->st;
  st->scorer.reset();
  st->profile.reset();
  st->layout.reset();
  st->last_map.reset();
  return TRUE;
}

static gboolean gst_advad_infer_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  if (!gst_video_info_from_caps(&st->info, incaps) ||
      !advad_pixel_format(GST_VIDEO_INFO_FORMAT(&st->info), &st->format))
    return FALSE;
  const int w = GST_VIDEO_INFO_WIDTH(&st->info), h = GST_VIDEO_INFO_HEIGHT(&st->info);
  try {
    st->layout = std::make_shared<const advad::TileLayout>(advad::make_tile_layout(w, h, st->profile->tiling));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot tile %dx%d frames: %s", w, h, e.what()),
                      ("Use a larger frame size or fewer tiles in the profile's [tiling] group."));
    return FALSE;
  }
  return TRUE;
}

// Adds the time one frame's scoring took to the running mean; tells the
// pipeline when the latency we report has become too small by a quarter.
// The first frames (one-time allocations) do not count, and the message is
// posted at most every 2 s: each one makes the pipeline redo its latency.
static void note_scoring_time(GstAdvadInfer* self, double seconds) {
  InferState* st = self->st;
  if (++st->timed_frames <= 2) return;
  st->mean_seconds = st->mean_seconds == 0 ? seconds : 0.9 * st->mean_seconds + 0.1 * seconds;
  const auto measured = static_cast<GstClockTime>(st->mean_seconds * GST_SECOND);
  const GstClockTime reported = st->latency;
  const gint64 now = g_get_monotonic_time();
  if (measured > reported + reported / 4 && now - st->last_latency_post_us >= 2 * G_USEC_PER_SEC) {
    st->last_latency_post_us = now;
    st->latency = measured;
    GST_INFO_OBJECT(self, "scoring takes %.1f ms; latency updated", st->mean_seconds * 1e3);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  }
}

static GstFlowReturn gst_advad_infer_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  GST_OBJECT_LOCK(self);
  const guint interval = std::max(1u, st->settings.interval);
  GST_OBJECT_UNLOCK(self);

  const int w = GST_VIDEO_INFO_WIDTH(&st->info), h = GST_VIDEO_INFO_HEIGHT(&st->info);
  auto result = gst_advad_meta_copy_result(buf);
  if (!result->layout || result->layout->frame_width != w || result->layout->frame_height != h)
    result->layout = st->layout;
  if (!result->profile) result->profile = st->profile;
  result->frame_number = st->frames++;

  const bool stale = !st->last_map || st->last_map->map.cols != w || st->last_map->map.rows != h;
  if (stale || result->frame_number - st->last_scored >= interval) {
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &st->info, buf, GST_MAP_READ)) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot read the frame's pixels."), (nullptr));
      return GST_FLOW_ERROR;
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
      st->last_map = std::make_shared<const advad::AnomalyMap>(
          st->scorer->score(advad_frame_mat(&frame), st->format, *result->layout));
    } catch (const std::exception& e) {
      gst_video_frame_unmap(&frame);
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Scoring frame %" G_GUINT64_FORMAT " failed: %s",
                                               result->frame_number, e.what()),
                        ("model %s", st->scorer->model().describe().c_str()));
      return GST_FLOW_ERROR;
    }
    gst_video_frame_unmap(&frame);
    note_scoring_time(self, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    st->last_scored = result->frame_number;
    result->carried = false;
  } else {
    result->carried = true;
  }
  result->map = st->last_map;
  result->scored_frame = st->last_scored;
  GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT " score %.4f%s", result->frame_number,
                 static_cast<double>(result->map->score), result->carried ? " (carried)" : "");
  gst_advad_meta_set_result(buf, std::move(result));
  return GST_FLOW_OK;
}

static gboolean gst_advad_infer_query(GstBaseTransform* trans, GstPadDirection dir, GstQuery* query) {
  auto* self = GST_ADVAD_INFER(trans);
  if (dir == GST_PAD_SINK) advad_check_sink_query(GST_ELEMENT(self), query, &self->st->warned_caps);
  if (!GST_BASE_TRANSFORM_CLASS(gst_advad_infer_parent_class)->query(trans, dir, query)) return FALSE;
  if (dir == GST_PAD_SRC && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(query, &live, &min, &max);
    const GstClockTime ours = self->st->latency;
    gst_query_set_latency(query, live, min + ours, GST_CLOCK_TIME_IS_VALID(max) ? max + ours : max);
    GST_DEBUG_OBJECT(self, "latency: upstream %" GST_TIME_FORMAT " + scoring %" GST_TIME_FORMAT, GST_TIME_ARGS(min),
                     GST_TIME_ARGS(ours));
  }
  return TRUE;
}

static gboolean gst_advad_infer_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_INFER(trans);
  advad_check_sink_event(GST_ELEMENT(self), event, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_infer_parent_class)->sink_event(trans, event);
}

static void gst_advad_infer_finalize(GObject* object) {
  delete GST_ADVAD_INFER(object)->st;
  G_OBJECT_CLASS(gst_advad_infer_parent_class)->finalize(object);
}

static void gst_advad_infer_class_init(GstAdvadInferClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = gst_advad_infer_set_property;
  gobject_class->get_property = gst_advad_infer_get_property;
  gobject_class->finalize = gst_advad_infer_finalize;

  g_object_class_install_property(
      gobject_class, PROP_PROFILE,
      g_param_spec_string("profile", "Profile",
                          "Path of the category profile (.ini) or model package folder: model, input size, "
                          "normalisation and tiling. Needed unless 'model' names a package folder.",
                          "", ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Model file or package folder to score with, overriding the profile's model key; a package "
                          "folder alone (without 'profile') also supplies the profile in its profile.ini.",
                          "", ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Where the model runs: auto (the first CUDA device if there is one, else the CPU), cpu, "
                          "cuda or cuda:N.",
                          "auto", ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
                        "Tiles scored per model call; 0 scores all tiles of a frame in one call (fastest, most "
                        "memory).",
                        0, 4096, 0, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint("inference-interval", "Inference interval",
                        "Score one frame in every N: 1 scores every frame; with N > 1 the frames in between carry "
                        "the last map and are marked carried in the meta, bus messages and JSON lines.",
                        1, G_MAXUINT, 1, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_uint("threads", "Threads",
                        "LibTorch intra-op threads for CPU scoring; 0 uses all cores. The setting is process-wide.",
                        0, 1024, 0, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
                        "Arithmetic precision of the model; fp16 and bf16 need a CUDA device.",
                        GST_TYPE_ADVAD_PRECISION, GST_ADVAD_PRECISION_FP32, ADVAD_PARAM_READY));

  gst_element_class_set_static_metadata(
      element_class, "advad anomaly inference", "Filter/Analyzer/Video",
      "Scores each frame's tiles with the category's anomaly model (INP-Former, CPR or TorchScript) and attaches the "
      "stitched anomaly map and frame score; pixels pass through untouched",
      "advad project");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_advad_infer_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_advad_infer_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_advad_infer_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_advad_infer_transform_ip);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_advad_infer_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_advad_infer_sink_event);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_PRECISION, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_advad_infer_debug, "advadinfer", 0, "advad anomaly inference");
}

static void gst_advad_infer_init(GstAdvadInfer* self) {
  self->st = new InferState();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
