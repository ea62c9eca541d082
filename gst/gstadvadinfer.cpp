// advadinfer: scores each frame with the category's model. It crops and
// resizes the frame's tiles into one batch, runs the model, stitches the tile
// maps into one anomaly map in frame coordinates, and attaches map + frame
// score to the buffer (GstAdvadMeta). Pixels pass through untouched.
//
// The model is loaded (and run on a black frame, to warm up and to check its
// output) when the element goes READY -> PAUSED, never in the streaming
// thread; setting `profile` or `model` later loads the new one in the
// background and swaps it in between two frames. Models are shared between
// elements of a process (engine/model_cache.h). Scoring runs on a worker
// thread and frames leave from an output thread, in order: see
// advadinfer_stream.cpp; loading and swapping models: advadinfer_models.cpp.
// This file maps properties, caps, events, queries.
#include <gst/video/video.h>

#include <cmath>

#include "advadcommon.h"
#include "core/error.h"
#include "engine/map_health.h"
#include "gstadvadinfer_priv.h"

GST_DEBUG_CATEGORY(gst_advad_infer_debug);
#define GST_CAT_DEFAULT gst_advad_infer_debug

G_DEFINE_TYPE(GstAdvadInfer, gst_advad_infer, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadinfer, "advadinfer", GST_RANK_NONE, GST_TYPE_ADVAD_INFER)

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_BATCH_SIZE,
  PROP_INTERVAL,
  PROP_THREADS,
  PROP_PRECISION,
  PROP_MAX_UNSCORED,
  PROP_STATS,
  PROP_STATS_INTERVAL,
  PROP_LATE_POLICY,
  PROP_MODEL_ID,
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

// "auto", "cpu", "cuda" or "cuda:N" (N a non-negative integer, nothing after it).
static bool device_ok(const std::string& d) {
  if (d == "auto" || d == "cpu" || d == "cuda") return true;
  if (d.rfind("cuda:", 0) != 0 || d.size() == 5) return false;
  for (size_t i = 5; i < d.size(); ++i)
    if (d[i] < '0' || d[i] > '9') return false;
  return d.size() <= 9;
}

// Values GLib lets through (the ranges are wide on purpose) that the element
// cannot use: recorded, reported at READY->PAUSED (see advadcommon.h).
static bool reject(GstAdvadInfer* self, GParamSpec* pspec, const GValue* value) {
  const char* name = pspec->name;
  switch (pspec->param_id) {
    case PROP_DEVICE: {
      const std::string d = advad_value_string(value);
      if (d.empty() || device_ok(d)) return false;
      advad_reject_property(GST_ELEMENT(self), name, d, "auto, cpu, cuda or cuda:N (N = 0, 1, ...)");
      return true;
    }
    case PROP_BATCH_SIZE:
      if (g_value_get_uint(value) <= 4096) return false;
      advad_reject_property(GST_ELEMENT(self), name, std::to_string(g_value_get_uint(value)),
                            "0 (all tiles of a frame in one call) to 4096");
      return true;
    case PROP_INTERVAL:
      if (g_value_get_uint(value) >= 1) return false;
      advad_reject_property(GST_ELEMENT(self), name, "0", "1 (every frame) or more");
      return true;
    case PROP_THREADS:
      if (g_value_get_uint(value) <= 1024) return false;
      advad_reject_property(GST_ELEMENT(self), name, std::to_string(g_value_get_uint(value)),
                            "0 (all cores) to 1024");
      return true;
    case PROP_STATS_INTERVAL: {
      const double v = g_value_get_double(value);
      if (std::isfinite(v) && v >= 0 && v <= 86400) return false;
      advad_reject_property(GST_ELEMENT(self), name, advad_double_text(v), "0 (off) to 86400 seconds");
      return true;
    }
    default:
      return false;
  }
}

static void gst_advad_infer_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_INFER(object);
  if (reject(self, pspec, value)) return;
  advad_accept_property(GST_ELEMENT(self), pspec->name);
  bool swap = false;
  GST_OBJECT_LOCK(self);
  InferSettings& s = self->st->settings;
  switch (id) {
    case PROP_PROFILE:
      swap = s.profile != advad_value_string(value);
      s.profile = advad_value_string(value);
      break;
    case PROP_MODEL:
      swap = s.model != advad_value_string(value);
      s.model = advad_value_string(value);
      break;
    case PROP_DEVICE: s.device = advad_value_string(value).empty() ? "auto" : advad_value_string(value); break;
    case PROP_BATCH_SIZE: s.batch_size = g_value_get_uint(value); break;
    case PROP_INTERVAL: s.interval = g_value_get_uint(value); break;
    case PROP_THREADS: s.threads = g_value_get_uint(value); break;
    case PROP_PRECISION: s.precision = static_cast<GstAdvadPrecision>(g_value_get_enum(value)); break;
    case PROP_MAX_UNSCORED: s.max_unscored = g_value_get_uint(value); break;
    case PROP_STATS_INTERVAL: s.stats_interval = g_value_get_double(value); break;
    case PROP_LATE_POLICY: s.late_policy = static_cast<GstAdvadLatePolicy>(g_value_get_enum(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
  if (swap) advad_infer_request_swap(self);  // only while PAUSED or PLAYING
}

static std::string active_identity(GstAdvadInfer* self) {
  std::lock_guard<std::mutex> lock(self->st->engine_mutex);
  return self->st->last_model;
}

static void gst_advad_infer_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_INFER(object);
  if (id == PROP_STATS) {
    g_value_take_boxed(value, advad_infer_stats_structure(self));
    return;
  }
  if (id == PROP_MODEL_ID) {
    g_value_set_string(value, active_identity(self).c_str());
    return;
  }
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
    case PROP_MAX_UNSCORED: g_value_set_uint(value, s.max_unscored); break;
    case PROP_STATS_INTERVAL: g_value_set_double(value, s.stats_interval); break;
    case PROP_LATE_POLICY: g_value_set_enum(value, s.late_policy); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

GstStructure* advad_infer_stats_structure(GstAdvadInfer* self) {
  InferState* st = self->st;
  const advad::LiveStats::Snapshot s = st->stats->snapshot();
  auto reason = [&](const char* r) {
    auto it = s.unscored_by_reason.find(r);
    return it == s.unscored_by_reason.end() ? guint64{0} : it->second;
  };
  std::string profile, model;
  {
    std::lock_guard<std::mutex> lock(st->engine_mutex);
    profile = st->last_profile;
    model = st->last_model;
  }
  return gst_structure_new(
      "advad-stats", "frames-in", G_TYPE_UINT64, s.frames_in, "scored", G_TYPE_UINT64, s.scored, "carried",
      G_TYPE_UINT64, s.carried, "dropped-late", G_TYPE_UINT64, s.dropped_late, "unscored", G_TYPE_UINT64, s.unscored,
      "unscored-non-finite", G_TYPE_UINT64, reason(advad::kUnscoredNonFinite), "unscored-wrong-shape", G_TYPE_UINT64,
      reason(advad::kUnscoredWrongShape), "unscored-model-error", G_TYPE_UINT64, reason(advad::kUnscoredModelError),
      "unscored-layout-mismatch", G_TYPE_UINT64, reason(advad::kUnscoredLayoutMismatch), "suspicious-constant",
      G_TYPE_UINT64, s.suspicious_constant, "defects", G_TYPE_UINT64, s.defects, "model-swaps", G_TYPE_UINT64,
      s.model_swaps, "scoring-p50-ms", G_TYPE_DOUBLE, s.scoring_p50_ms, "scoring-p95-ms", G_TYPE_DOUBLE,
      s.scoring_p95_ms, "latency-ms", G_TYPE_DOUBLE, static_cast<double>(st->latency.load()) / GST_MSECOND,
      "profile", G_TYPE_STRING, profile.c_str(), "model", G_TYPE_STRING, model.c_str(), nullptr);
}

static gboolean gst_advad_infer_start(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  if (!advad_check_properties(GST_ELEMENT(self))) return FALSE;
  GST_OBJECT_LOCK(self);
  const InferSettings s = st->settings;
  GST_OBJECT_UNLOCK(self);

  InferEngineError error;
  InferEnginePtr engine = advad_infer_build_engine(s, &error);
  if (!engine) {
    if (error.resource)
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", error.message.c_str()), ("%s", error.hint.c_str()));
    else
      GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("%s", error.message.c_str()), ("%s", error.hint.c_str()));
    return FALSE;
  }
  if (engine->warn)
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", engine->note.c_str()),
                        ("A model package is self-contained: set its thresholds with `advad calibrate --write`."));
  else if (!engine->note.empty())
    GST_INFO_OBJECT(self, "%s", engine->note.c_str());
  GST_INFO_OBJECT(self, "%s (%s); warm-up frame took %.1f ms", engine->loaded->model->describe().c_str(),
                  engine->loaded->identity.c_str(), engine->warm_up_seconds * 1e3);
  {
    std::lock_guard<std::mutex> lock(st->engine_mutex);
    st->active = engine;
    st->pending.reset();
    st->last_profile = engine->profile->path;
    st->last_model = engine->loaded->identity;
  }
  st->frames = st->last_score_role = 0;
  st->have_score_role = false;
  st->last_score_engine.reset();
  st->last = InferOutcome{};
  st->consecutive_unscored = 0;
  st->last_warning_us = 0;
  st->warnings_suppressed = 0;
  st->warned_constant = st->warned_layout = false;
  st->stats->reset();
  st->last_stats_us = g_get_monotonic_time();
  {
    std::lock_guard<std::mutex> lock(st->timing_mutex);
    st->qos_earliest = GST_CLOCK_TIME_NONE;
    st->pipeline_latency = GST_CLOCK_TIME_NONE;
  }
  // Until frames are measured: a frame may wait for the one before it.
  st->latency_tracker.reset(2 * engine->warm_up_seconds, static_cast<double>(g_get_monotonic_time()) / 1e6);
  st->latency = static_cast<GstClockTime>(2 * engine->warm_up_seconds * GST_SECOND);
  advad_infer_start_threads(self);
  st->started = true;
  return TRUE;
}

static gboolean gst_advad_infer_stop(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  advad_infer_join_loader(self);
  advad_infer_stop_threads(self);
  std::lock_guard<std::mutex> lock(st->engine_mutex);
  st->active.reset();
  st->pending.reset();
  st->last = InferOutcome{};
  return TRUE;
}

static GstStateChangeReturn gst_advad_infer_change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_ADVAD_INFER(element);
  // A streaming thread blocked on a full queue must return before the pads
  // can deactivate.
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && self->st->queue) self->st->queue->close();
  return GST_ELEMENT_CLASS(gst_advad_infer_parent_class)->change_state(element, transition);
}

static gboolean gst_advad_infer_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  GstVideoInfo info;
  advad::PixelFormat format;
  if (!gst_video_info_from_caps(&info, incaps) || !advad_pixel_format(GST_VIDEO_INFO_FORMAT(&info), &format))
    return FALSE;
  const int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
  InferEnginePtr engine;
  {
    std::lock_guard<std::mutex> lock(st->engine_mutex);
    engine = st->active;
  }
  try {
    advad::make_tile_layout(w, h, engine->profile->tiling);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot tile %dx%d frames: %s", w, h, e.what()),
                      ("Use a larger frame size or fewer tiles in the [tiling] group of %s.",
                       engine->profile->path.c_str()));
    return FALSE;
  }
  st->info = info;
  st->format = format;
  return TRUE;
}

static gboolean gst_advad_infer_query(GstBaseTransform* trans, GstPadDirection dir, GstQuery* query) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  if (dir == GST_PAD_SINK) advad_check_sink_query(GST_ELEMENT(self), query, &st->warned_caps);
  // Serialized queries (drain, allocation) come after the frames before them.
  if (dir == GST_PAD_SINK && GST_QUERY_IS_SERIALIZED(query) && st->queue) st->queue->wait_drained();
  // advadtile asks which profile we score with, to tile the same way.
  if (dir == GST_PAD_SINK && GST_QUERY_TYPE(query) == GST_QUERY_CUSTOM) {
    const GstStructure* s = gst_query_get_structure(query);
    if (s && gst_structure_has_name(s, "advad-layout")) {
      std::lock_guard<std::mutex> lock(st->engine_mutex);
      if (!st->active) return FALSE;
      const InferEnginePtr& e = st->active;
      GstStructure* w = gst_query_writable_structure(query);
      gst_structure_set(w, "profile", G_TYPE_STRING, e->profile->path.c_str(), "element", G_TYPE_STRING,
                        GST_ELEMENT_NAME(self), nullptr);
      return TRUE;
    }
  }
  if (!GST_BASE_TRANSFORM_CLASS(gst_advad_infer_parent_class)->query(trans, dir, query)) return FALSE;
  if (dir == GST_PAD_SRC && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(query, &live, &min, &max);
    {
      std::lock_guard<std::mutex> lock(st->timing_mutex);
      st->upstream_live = live;
      st->upstream_min = min;
    }
    const GstClockTime ours = st->latency;
    gst_query_set_latency(query, live, min + ours, GST_CLOCK_TIME_IS_VALID(max) ? max + ours : max);
    GST_DEBUG_OBJECT(self, "latency: upstream %" GST_TIME_FORMAT " + in element %" GST_TIME_FORMAT, GST_TIME_ARGS(min),
                     GST_TIME_ARGS(ours));
  }
  return TRUE;
}

static gboolean gst_advad_infer_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  advad_check_sink_event(GST_ELEMENT(self), event, &st->warned_caps);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      if (st->queue) st->queue->set_flushing(true);
      break;
    case GST_EVENT_FLUSH_STOP: {
      const gboolean ok = GST_BASE_TRANSFORM_CLASS(gst_advad_infer_parent_class)->sink_event(trans, event);
      {
        std::lock_guard<std::mutex> lock(st->timing_mutex);
        st->qos_earliest = GST_CLOCK_TIME_NONE;
      }
      st->flow = GST_FLOW_OK;
      if (st->queue) st->queue->set_flushing(false);
      return ok;
    }
    default:
      // Serialized events (caps, segment, EOS, gap...) follow the frames
      // before them: wait until those have left.
      if (GST_EVENT_IS_SERIALIZED(event) && st->queue) st->queue->wait_drained();
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_advad_infer_parent_class)->sink_event(trans, event);
}

static gboolean gst_advad_infer_src_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  if (GST_EVENT_TYPE(event) == GST_EVENT_QOS) {
    GstQOSType type;
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime timestamp;
    gst_event_parse_qos(event, &type, &proportion, &diff, &timestamp);
    std::lock_guard<std::mutex> lock(st->timing_mutex);
    // As base transform does: when late, skip twice the lateness ahead.
    st->qos_earliest = diff > 0 ? timestamp + 2 * diff : timestamp + diff;
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_LATENCY) {
    GstClockTime latency;
    gst_event_parse_latency(event, &latency);
    std::lock_guard<std::mutex> lock(st->timing_mutex);
    st->pipeline_latency = latency;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_advad_infer_parent_class)->src_event(trans, event);
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

  advad_install_profile_property(
      gobject_class, PROP_PROFILE,
      "Path of the category profile (.ini) or model package folder: model, input size, normalisation and tiling. "
      "Needed unless 'model' names a package folder. Setting it while PAUSED or PLAYING loads the new model in the "
      "background (the stream keeps flowing on the old one), swaps it in between two frames and posts an "
      "advad-model-changed message; a load that fails posts a WARNING and the old model keeps scoring.",
      ADVAD_PARAM_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Model file or package folder to score with, overriding the profile's model key; a package "
                          "folder alone (without 'profile') also supplies the profile in its profile.ini. Changeable "
                          "while PLAYING, as 'profile'.",
                          "", ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Where the model runs: auto (the first CUDA device if there is one, else the CPU), cpu, "
                          "cuda or cuda:N.",
                          "auto", ADVAD_PARAM_READY));
  // Number ranges below are the type's: the element itself rejects what it cannot use
  // (an ERROR naming the value at READY->PAUSED) instead of GLib warning and keeping the old value.
  g_object_class_install_property(
      gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
                        "Tiles scored per model call, 0..4096; 0 scores all tiles of a frame in one call (fastest, "
                        "most memory).",
                        0, G_MAXUINT, 0, static_cast<GParamFlags>(ADVAD_PARAM_READY | G_PARAM_LAX_VALIDATION)));
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint("inference-interval", "Inference interval",
                        "Score one frame in every N: 1 scores every frame; with N > 1 the frames in between carry "
                        "the last map and are marked carried in the meta, bus messages and JSON lines, so the video "
                        "can flow at up to N times the model's frame rate. N >= 1.",
                        0, G_MAXUINT, 1, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_uint("threads", "Threads",
                        "LibTorch intra-op threads for CPU scoring, 0..1024; 0 uses all cores. The setting is "
                        "process-wide.",
                        0, G_MAXUINT, 0, static_cast<GParamFlags>(ADVAD_PARAM_READY | G_PARAM_LAX_VALIDATION)));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
                        "Arithmetic precision of the model. auto (default): the profile's [profile] precision if "
                        "it sets one, else bf16 where the device has native bf16 (CPU: avx512_bf16 or amx_bf16 in "
                        "/proc/cpuinfo; CUDA: compute capability 8+) and the method has a bf16 path (INP-Former), "
                        "else fp32. fp16 needs CUDA; int8 is INP-Former on the CPU only. An explicit value "
                        "overrides the profile.",
                        GST_TYPE_ADVAD_PRECISION, GST_ADVAD_PRECISION_AUTO, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_MAX_UNSCORED,
      g_param_spec_uint("max-unscored", "Maximum unscored frames",
                        "A frame whose map has a NaN or infinity, has the wrong shape, or whose scoring failed is "
                        "marked unscored (never ok) and the first one posts a WARNING; after this many unscored "
                        "frames in a row the element posts an ERROR. 0 = never.",
                        0, G_MAXUINT, 25, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Read-only advad-stats structure: frames-in, scored, carried, dropped-late, unscored (and "
                         "unscored-non-finite / -wrong-shape / -model-error / -layout-mismatch), suspicious-constant "
                         "(maps constant over the whole frame), defects (counted by advadpostproc), model-swaps, "
                         "scoring-p50-ms, scoring-p95-ms, latency-ms (reported), profile, model.",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_double("stats-interval", "Statistics interval",
                          "Post the stats as an element message named advad-stats every this many seconds, 0..86400; "
                          "0 = off.",
                          -INFINITY, INFINITY, 0, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_LATE_POLICY,
      g_param_spec_enum("late-frames", "Late frames",
                        "What to do with a frame that is already too late to be shown in time (downstream QoS, or "
                        "with a live source the clock: running time + pipeline latency has passed), before the "
                        "model spends time on it. Either way it is counted in the stats.",
                        GST_TYPE_ADVAD_LATE_POLICY, GST_ADVAD_LATE_DROP, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_MODEL_ID,
      g_param_spec_string("model-id", "Model identity",
                          "Read-only: the model scoring now (after the element stopped: the last one), as <model "
                          "path>@<first 12 hex digits of the SHA-256 of its profile and files>. Each frame's result "
                          "carries the identity of the model that scored it.",
                          "", static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(
      element_class, "advad anomaly inference", "Filter/Analyzer/Video",
      "Scores each frame's tiles with the category's anomaly model (INP-Former, CPR or TorchScript) and attaches the "
      "stitched anomaly map and frame score; pixels pass through untouched. Scoring runs on a worker thread with at "
      "most two frames queued for the model; frames leave in order with timestamps untouched. Latency: upstream + "
      "1.1 x the 95th percentile of the time the last 64 frames spent in the element (2 x the warm-up frame until 8 "
      "are measured), raised when above, lowered when under 0.75 x it, at most every 2 s (each change posts a "
      "LATENCY message).",
      "advad project");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_advad_infer_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR(gst_advad_infer_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_advad_infer_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_advad_infer_set_caps);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(advad_infer_submit);
  trans_class->generate_output = GST_DEBUG_FUNCPTR(advad_infer_generate);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_advad_infer_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_advad_infer_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_advad_infer_src_event);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_PRECISION, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_LATE_POLICY, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_advad_infer_debug, "advadinfer", 0, "advad anomaly inference");
}

static void gst_advad_infer_init(GstAdvadInfer* self) {
  self->st = new InferState();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
