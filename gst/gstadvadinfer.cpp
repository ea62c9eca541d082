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
// advadinfer_stream.cpp; loading and swapping models: advadinfer_models.cpp;
// the properties: advadinfer_props.cpp. This file: state changes, caps,
// events, queries, the stats structure.
#include <gst/video/video.h>

#include <cmath>

#include "advadcommon.h"
#include "core/error.h"
#include "engine/map_health.h"
#include "gstadvadinfer_priv.h"
#include "render/json_lines_writer.h"

GST_DEBUG_CATEGORY(gst_advad_infer_debug);
#define GST_CAT_DEFAULT gst_advad_infer_debug

G_DEFINE_TYPE(GstAdvadInfer, gst_advad_infer, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadinfer, "advadinfer", GST_RANK_NONE, GST_TYPE_ADVAD_INFER)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

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
  st->run = advad::new_run_id();
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
  gobject_class->finalize = gst_advad_infer_finalize;

  advad_infer_install_properties(gobject_class);

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
