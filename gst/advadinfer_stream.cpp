// advadinfer's frame path. Three threads move a frame:
//  1. the upstream streaming thread (submit_input_buffer) decides what the
//     frame gets — scored, carried (inference-interval), dropped as late, or
//     unscored because it was tiled for another model — picks the model that
//     scores it (this is where a swapped-in model takes over) and queues it;
//  2. the worker scores queued frames one at a time, so the model never
//     waits for the source to make the next frame;
//  3. the output thread pushes frames downstream in arrival order, with
//     timestamps untouched, so a sink that waits for the clock never holds up
//     the model.
// At most two frames to score are queued; the streaming thread blocks beyond
// that, and frames that would reach the sink too late anyway are dropped
// (or carried) before they cost model time.
#include <algorithm>
#include <chrono>

#include "advadcommon.h"
#include "core/error.h"
#include "engine/layout_match.h"
#include "engine/map_health.h"
#include "gstadvadinfer_priv.h"

GST_DEBUG_CATEGORY_EXTERN(gst_advad_infer_debug);
#define GST_CAT_DEFAULT gst_advad_infer_debug

namespace {

constexpr size_t kMaxScoreInFlight = 2;  // one being scored, one ready to start
constexpr size_t kMaxQueued = 64;        // frames of any kind held in the element
constexpr gint64 kWarningEveryUs = 10 * G_USEC_PER_SEC;

double seconds_since(gint64 t_us) { return static_cast<double>(g_get_monotonic_time() - t_us) / 1e6; }

}  // namespace

InferItem& InferItem::operator=(InferItem&& o) noexcept {
  if (this == &o) return *this;
  if (buf) gst_buffer_unref(buf);
  buf = o.buf;
  o.buf = nullptr;
  result = std::move(o.result);
  engine = std::move(o.engine);
  info = o.info;
  format = o.format;
  kind = o.kind;
  running_time = o.running_time;
  t_in_us = o.t_in_us;
  late = o.late;
  constant = o.constant;
  scoring_s = o.scoring_s;
  map = std::move(o.map);
  reason = std::move(o.reason);
  detail = std::move(o.detail);
  return *this;
}

// The engine's layout for this frame size (cached in the engine).
static const advad::TileLayout* engine_layout(InferEngine& e, int w, int h) {
  if (e.layout && e.layout->frame_width == w && e.layout->frame_height == h) return e.layout.get();
  e.layout.reset();
  e.layout_error.clear();
  try {
    e.layout = std::make_shared<const advad::TileLayout>(advad::make_tile_layout(w, h, e.profile->tiling));
  } catch (const std::exception& ex) {
    e.layout_error = ex.what();
    return nullptr;
  }
  return e.layout.get();
}

static void post_model_changed(GstAdvadInfer* self, const InferEngine& old_e, const InferEngine& new_e) {
  GstStructure* s = gst_structure_new(
      "advad-model-changed", "old-profile", G_TYPE_STRING, old_e.profile->path.c_str(), "new-profile", G_TYPE_STRING,
      new_e.profile->path.c_str(), "old-model", G_TYPE_STRING, old_e.loaded->identity.c_str(), "model", G_TYPE_STRING,
      new_e.loaded->identity.c_str(), "load-seconds", G_TYPE_DOUBLE, new_e.loaded->load_seconds, nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

// The model that scores this frame. A loaded model waiting to take over does
// so on the first frame tiled for it: at once when nothing upstream tiles
// (or it tiles the same way for both), else on the first frame whose
// advadtile layout is the new model's — advadtile switched on our event —
// or at once when no advadtile upstream follows us.
static InferEnginePtr engine_for_frame(GstAdvadInfer* self, const advad::TileLayout* tiled, int w, int h) {
  InferState* st = self->st;
  InferEnginePtr old_engine, new_engine;
  {
    std::lock_guard<std::mutex> lock(st->engine_mutex);
    if (st->pending) {
      const advad::TileLayout* next = engine_layout(*st->pending, w, h);
      const advad::TileLayout* now = engine_layout(*st->active, w, h);
      const bool same_tiling = next && now && advad::same_layout(*next, *now);
      const bool take = !tiled || same_tiling || (next && advad::same_layout(*tiled, *next)) ||
                        st->handover == InferState::Handover::Direct;
      if (take) {
        old_engine = st->active;
        st->active = st->pending;
        st->last_profile = st->active->profile->path;
        st->last_model = st->active->loaded->identity;
        st->pending.reset();
        new_engine = st->active;
      }
    }
    if (!new_engine) return st->active;
  }
  st->stats->model_swapped();
  GST_INFO_OBJECT(self, "now scoring with %s (was %s)", new_engine->loaded->identity.c_str(),
                  old_engine->loaded->identity.c_str());
  post_model_changed(self, *old_engine, *new_engine);
  return new_engine;
}

// ---------------------------------------------------------------- lateness

bool advad_infer_is_late(GstAdvadInfer* self, GstClockTime rt, double ahead_s) {
  InferState* st = self->st;
  if (!GST_CLOCK_TIME_IS_VALID(rt)) return false;
  GstClockTime earliest, latency;
  bool live;
  {
    std::lock_guard<std::mutex> lock(st->timing_mutex);
    earliest = st->qos_earliest;
    live = st->upstream_live;
    // At least what upstream and we announce: a sink that does not sync
    // reports no latency of its own, and the pipeline's may then be 0.
    latency = st->upstream_min + st->latency.load();
    if (GST_CLOCK_TIME_IS_VALID(st->pipeline_latency)) latency = std::max(latency, st->pipeline_latency);
  }
  // Downstream said frames before `earliest` are too late to show.
  if (GST_CLOCK_TIME_IS_VALID(earliest) && gst_base_transform_is_qos_enabled(GST_BASE_TRANSFORM(self)) &&
      rt <= earliest)
    return true;
  if (!live) return false;
  // A live source: the frame is due at a synchronising sink at rt + latency.
  // Past that (with 20 ms of slack), it only adds delay.
  GstClock* clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock) return false;
  const GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  if (now < base) return false;
  const GstClockTime now_rt = now - base + static_cast<GstClockTime>(ahead_s * GST_SECOND);
  const GstClockTime slack = 20 * GST_MSECOND;
  return now_rt > rt + latency + slack;
}

// ---------------------------------------------------------------- submit

GstFlowReturn advad_infer_submit(GstBaseTransform* trans, gboolean, GstBuffer* buf) {
  auto* self = GST_ADVAD_INFER(trans);
  InferState* st = self->st;
  const GstFlowReturn flow = st->flow.load();
  if (flow != GST_FLOW_OK) {
    gst_buffer_unref(buf);
    return flow;
  }
  GST_OBJECT_LOCK(self);
  const guint interval = std::max(1u, st->settings.interval);
  const GstAdvadLatePolicy late_policy = st->settings.late_policy;
  GST_OBJECT_UNLOCK(self);

  st->stats->frame_in();
  const guint64 number = st->frames++;
  const int w = GST_VIDEO_INFO_WIDTH(&st->info), h = GST_VIDEO_INFO_HEIGHT(&st->info);

  InferItem item;
  item.buf = buf;
  item.t_in_us = g_get_monotonic_time();
  item.info = st->info;
  item.format = st->format;
  item.running_time = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  item.result = gst_advad_meta_copy_result(buf);
  AdvadFrameResult& r = *item.result;
  const bool tiled = r.layout && r.layout->frame_width == w && r.layout->frame_height == h;

  item.engine = engine_for_frame(self, tiled ? r.layout.get() : nullptr, w, h);
  InferEngine& engine = *item.engine;
  const advad::TileLayout* layout = engine_layout(engine, w, h);
  r.frame_number = number;
  r.run = st->run;
  r.stats = st->stats;
  r.model_id = engine.loaded->identity;

  if (!layout) {
    item.kind = InferItem::Kind::Decided;
    item.reason = advad::kUnscoredLayoutMismatch;
    item.detail = "cannot tile " + std::to_string(w) + "x" + std::to_string(h) + " frames with profile " +
                  engine.profile->path + ": " + engine.layout_error;
  } else if (tiled && !advad::same_layout(*r.layout, *layout)) {
    item.kind = InferItem::Kind::Decided;
    item.reason = advad::kUnscoredLayoutMismatch;
    item.detail = "the frame was tiled as profile " + (r.profile ? r.profile->path : std::string("?")) +
                  " says, but the model scores with profile " + engine.profile->path;
  } else {
    r.layout = engine.layout;
    const bool due = !st->have_score_role || number - st->last_score_role >= interval ||
                     st->last_score_engine.lock() != item.engine || st->last_score_w != w || st->last_score_h != h;
    item.kind = due ? InferItem::Kind::Score : InferItem::Kind::Carry;
  }
  r.profile = engine.profile;

  if (item.kind == InferItem::Kind::Score) {
    if (advad_infer_is_late(self, item.running_time, 0)) {
      if (late_policy == GST_ADVAD_LATE_DROP) {
        st->stats->dropped_late();
        GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT " dropped: late on arrival", number);
        return GST_FLOW_OK;  // item's destructor unrefs the buffer
      }
      item.kind = InferItem::Kind::Carry;
      item.late = true;
    } else {
      st->have_score_role = true;
      st->last_score_role = number;
      st->last_score_engine = item.engine;
      st->last_score_w = w;
      st->last_score_h = h;
    }
  }
  const bool work = item.kind == InferItem::Kind::Score;
  if (!st->queue->push(std::move(item), work)) return GST_FLOW_FLUSHING;
  return GST_FLOW_OK;
}

// Frames leave from the output thread; base transform pushes nothing itself.
GstFlowReturn advad_infer_generate(GstBaseTransform*, GstBuffer** outbuf) {
  *outbuf = nullptr;
  return GST_FLOW_OK;
}

// ---------------------------------------------------------------- worker

static void score_item(GstAdvadInfer* self, InferItem* it) {
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &it->info, it->buf, GST_MAP_READ)) {
    it->reason = advad::kUnscoredModelError;
    it->detail = "cannot read the frame's pixels";
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int w = GST_VIDEO_INFO_WIDTH(&it->info), h = GST_VIDEO_INFO_HEIGHT(&it->info);
  try {
    auto map = std::make_shared<const advad::AnomalyMap>(
        it->engine->scorer->score(advad_frame_mat(&frame), it->format, *it->result->layout));
    const advad::MapHealth health = advad::check_map(*map, w, h);
    if (health.ok()) {
      it->map = std::move(map);
      it->constant = health.constant;
    } else {
      it->reason = health.unscored_reason;
      it->detail = health.detail;
    }
  } catch (const advad::MapShapeError& e) {
    it->reason = advad::kUnscoredWrongShape;
    it->detail = e.what();
  } catch (const std::exception& e) {
    it->reason = advad::kUnscoredModelError;
    it->detail = e.what();
  }
  gst_video_frame_unmap(&frame);
  it->scoring_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT " scored in %.1f ms%s%s", it->result->frame_number,
                 it->scoring_s * 1e3, it->reason.empty() ? "" : ": unscored, ", it->reason.c_str());
}

static void worker_main(GstAdvadInfer* self) {
  InferState* st = self->st;
  while (st->queue->wait_open()) {
    InferItem* it = st->queue->take_work();
    if (!it) continue;
    // Would it reach the sink too late even if scored now? Then spare the model.
    const advad::LiveStats::Snapshot snap = st->stats->snapshot();
    if (advad_infer_is_late(self, it->running_time, snap.scoring_p50_ms / 1e3))
      it->late = true;
    else
      score_item(self, it);
    st->queue->finish_work(it);
  }
}

// ---------------------------------------------------------------- output

// Posts the first warning at once, then at most one every 10 s with a count.
static void warn_unscored(GstAdvadInfer* self, const InferItem& it) {
  InferState* st = self->st;
  const gint64 now = g_get_monotonic_time();
  if (st->last_warning_us != 0 && now - st->last_warning_us < kWarningEveryUs) {
    ++st->warnings_suppressed;
    return;
  }
  const std::string model = it.engine->loaded->identity;
  GST_ELEMENT_WARNING(self, STREAM, DECODE,
                      ("Frame %" G_GUINT64_FORMAT " left unscored (%s) by model %s", it.result->frame_number,
                       it.reason.c_str(), model.c_str()),
                      ("%s; %" G_GUINT64_FORMAT " more unscored frames since the last warning. Such frames are "
                       "reported as \"unscored\", never \"ok\".",
                       it.detail.c_str(), st->warnings_suppressed));
  st->last_warning_us = now;
  st->warnings_suppressed = 0;
}

static void post_stats(GstAdvadInfer* self) {
  GstStructure* s = advad_infer_stats_structure(self);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

// Fills the frame's result from its outcome (or the last one, when carried),
// keeps the counters, warnings and latency; null when the frame is dropped.
static GstBuffer* finish_item(GstAdvadInfer* self, InferItem& it, GstFlowReturn* flow) {
  InferState* st = self->st;
  GST_OBJECT_LOCK(self);
  const InferSettings s = st->settings;
  GST_OBJECT_UNLOCK(self);
  AdvadFrameResult& r = *it.result;

  if (it.late && it.kind == InferItem::Kind::Score) {
    if (s.late_policy == GST_ADVAD_LATE_DROP) {
      st->stats->dropped_late();
      GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT " dropped: too late to score", r.frame_number);
      return nullptr;
    }
    it.kind = InferItem::Kind::Carry;
  }

  if (it.kind == InferItem::Kind::Carry) {
    st->stats->carried();
    r.carried = true;
    if (st->last.valid) {
      r.map = st->last.map;
      r.unscored_reason = st->last.reason;
      r.unscored_detail = st->last.detail;
      r.model_id = st->last.model_id;
      r.profile = st->last.profile;
      r.scored_frame = st->last.scored_frame;
    } else {
      r.unscored_reason = "late";
      r.unscored_detail = "too late to score, and no frame was scored before it";
    }
  } else {
    r.carried = false;
    r.scored_frame = r.frame_number;
    r.map = it.map;
    r.unscored_reason = it.reason;
    r.unscored_detail = it.detail;
    st->last = InferOutcome{true, it.map, it.reason, it.detail, r.model_id, r.profile, r.frame_number};
    if (it.reason.empty()) {
      st->stats->scored(it.scoring_s);
      st->consecutive_unscored = 0;
      if (it.constant) {
        st->stats->suspicious_constant();
        if (!st->warned_constant) {
          st->warned_constant = true;
          GST_ELEMENT_WARNING(self, STREAM, DECODE,
                              ("Model %s gave a map that is exactly constant over frame %" G_GUINT64_FORMAT ".",
                               r.model_id.c_str(), r.frame_number),
                              ("A working model rarely does that: check the model and the camera image. Such frames "
                               "are counted as suspicious-constant in the stats."));
        }
      }
    } else {
      st->stats->unscored(it.reason);
      ++st->consecutive_unscored;
      warn_unscored(self, it);
      if (s.max_unscored > 0 && st->consecutive_unscored >= s.max_unscored) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED,
                          ("%u frames in a row left unscored by model %s (last: %s).", st->consecutive_unscored,
                           r.model_id.c_str(), it.reason.c_str()),
                          ("%s. Set max-unscored=0 to keep running on such frames.", it.detail.c_str()));
        *flow = GST_FLOW_ERROR;
      }
    }
  }

  const double in_element = seconds_since(it.t_in_us);
  st->latency_tracker.add(in_element);
  if (st->latency_tracker.update(static_cast<double>(g_get_monotonic_time()) / 1e6)) {
    st->latency = static_cast<GstClockTime>(st->latency_tracker.announced() * GST_SECOND);
    GST_INFO_OBJECT(self, "latency now %.1f ms (p95 in element %.1f ms)", st->latency_tracker.announced() * 1e3,
                    st->latency_tracker.measured() * 1e3);
    // Only a live pipeline schedules by latency; elsewhere a LATENCY message
    // would just make the pipeline redo its latency for nothing.
    bool live;
    {
      std::lock_guard<std::mutex> lock(st->timing_mutex);
      live = st->upstream_live;
    }
    if (live) gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  }
  if (s.stats_interval > 0) {
    const gint64 now = g_get_monotonic_time();
    if (now - st->last_stats_us >= static_cast<gint64>(s.stats_interval * G_USEC_PER_SEC)) {
      st->last_stats_us = now;
      post_stats(self);
    }
  }

  GstBuffer* buf = gst_buffer_make_writable(it.buf);
  it.buf = nullptr;
  GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT ": %s%s", r.frame_number,
                 r.unscored_reason.empty() ? "scored" : r.unscored_reason.c_str(), r.carried ? " (carried)" : "");
  gst_advad_meta_set_result(buf, std::move(it.result));
  return buf;
}

static void output_main(GstAdvadInfer* self) {
  InferState* st = self->st;
  GstPad* srcpad = GST_BASE_TRANSFORM_SRC_PAD(self);
  while (st->queue->wait_open()) {
    std::optional<InferItem> it = st->queue->pop_ready();
    if (!it) continue;
    GstFlowReturn flow = GST_FLOW_OK;
    GstBuffer* buf = finish_item(self, *it, &flow);
    if (buf) {
      const GstFlowReturn pushed = gst_pad_push(srcpad, buf);
      if (flow == GST_FLOW_OK) flow = pushed;
    }
    if (flow != GST_FLOW_OK) {
      GstFlowReturn expected = GST_FLOW_OK;
      st->flow.compare_exchange_strong(expected, flow);
      GST_DEBUG_OBJECT(self, "downstream returned %s", gst_flow_get_name(flow));
    }
    st->queue->finish_pop();
  }
}

void advad_infer_start_threads(GstAdvadInfer* self) {
  InferState* st = self->st;
  st->queue = std::make_unique<advad::OrderedQueue<InferItem>>(kMaxQueued, kMaxScoreInFlight);
  st->flow = GST_FLOW_OK;
  st->worker = std::thread(worker_main, self);
  st->output = std::thread(output_main, self);
}

void advad_infer_stop_threads(GstAdvadInfer* self) {
  InferState* st = self->st;
  if (st->queue) st->queue->close();
  if (st->worker.joinable()) st->worker.join();
  if (st->output.joinable()) st->output.join();
  st->queue.reset();
}
