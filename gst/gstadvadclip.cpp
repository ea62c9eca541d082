// advadclip: defect clips with pre-roll. A pass-through bin for raw video:
//
//   sink ─ tee ─────────────────────────────────────────────────────── src
//           └─ queue ! videocrop (even sides) ! videoconvert ! I420 ! x264enc ! h264parse ! appsink
//
// A probe on the tee's sink pad reads each frame's verdict (GstAdvadMeta);
// the appsink gets the encoded frames. Both feed advad::record::ClipPlanner
// (src/record: pre-roll ring, which samples go into which clip), whose events
// a writer thread turns into MP4 files, one small pipeline per clip
// (appsrc ! h264parse ! mp4mux ! filesink), so the stream never waits for
// a file. The defect frame's meta gets the clip's path (copy-on-write), so a
// JSON writer downstream names the clip in that frame's line. At EOS the
// encoder branch holds its EOS until every clip is written (the pipeline's
// EOS therefore means "clips done"); a stop finishes them too.
#include "gstadvadclip.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "advadcommon.h"
#include "advadmeta.h"
#include "record/clip_planner.h"
#include "render/frame_json.h"
#include "render/json_lines_writer.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_clip_debug);
#define GST_CAT_DEFAULT gst_advad_clip_debug

namespace {

using advad::record::ClipEvent;
using advad::record::ClipPlanner;
using advad::record::DefectOutcome;

constexpr double kMaxPre = 600, kMaxPost = 3600, kMaxDuration = 86400;
constexpr double kDefaultPre = 5, kDefaultPost = 5, kDefaultMaxDuration = 60;
constexpr guint kDefaultBitrate = 2048, kDefaultMaxPending = 4;
constexpr GstClockTime kClipFinishTimeout = 60 * GST_SECOND;  // one clip's mux + write after its EOS
constexpr GstClockTime kKeyInterval = GST_SECOND;

// One clip file being written (writer thread only).
struct ClipFile {
  std::string path;
  GstElement* pipeline = nullptr;
  GstElement* src = nullptr;
  GstClockTime offset = 0;  // first sample's pts: the file starts at 0
  bool failed = false;
};

struct State {
  // Settings (object lock).
  std::string location, source;
  double pre = kDefaultPre, post = kDefaultPost, max_duration = kDefaultMaxDuration;
  guint bitrate = kDefaultBitrate, max_pending = kDefaultMaxPending;

  // Running: planner and counters (mutex). Events are queued under it, so
  // the writer sees them in the planner's order.
  std::mutex mutex;
  std::unique_ptr<ClipPlanner> planner;
  std::string run, folder, source_now;
  guint max_pending_now = kDefaultMaxPending;
  int pending = 0;          // clips opened and not yet written
  bool dropping = false;    // a warning for dropped clips was posted
  bool live_checked = false;
  GstSegment raw_segment{};  // the raw video's segment (running time -> pts for messages)
  GstClockTime next_key = GST_CLOCK_TIME_NONE;  // encoder branch thread only

  // Writer thread (qmutex).
  std::mutex qmutex;
  std::condition_variable qcv, idle_cv;
  std::deque<ClipEvent> jobs;
  bool busy = false, stopping = false;
  std::thread writer;
  std::map<std::uint64_t, ClipFile> files;  // writer thread only
};

}  // namespace

struct _GstAdvadClip {
  GstBin parent;
  GstElement *tee, *queue, *crop, *convert, *format, *encoder, *parse, *sink;
  State* st;
};

G_DEFINE_TYPE(GstAdvadClip, gst_advad_clip, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(advadclip, "advadclip", GST_RANK_NONE, GST_TYPE_ADVAD_CLIP)

enum { PROP_0, PROP_LOCATION, PROP_PRE, PROP_POST, PROP_MAX_DURATION, PROP_BITRATE, PROP_SOURCE, PROP_MAX_PENDING };

// ---------------------------------------------------------------- writer

static void enqueue(State* st, std::vector<ClipEvent>* events) {
  if (events->empty()) return;
  {
    std::lock_guard<std::mutex> lock(st->qmutex);
    for (auto& e : *events) st->jobs.push_back(std::move(e));
  }
  events->clear();
  st->qcv.notify_one();
}

static void clip_warning(GstAdvadClip* self, const std::string& text) {
  GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s: %s", advad_element_label(GST_ELEMENT(self)).c_str(), text.c_str()),
                      (nullptr));
}

static bool start_file(GstAdvadClip* self, ClipFile* f, GstSample* sample) {
  f->pipeline = gst_pipeline_new(nullptr);
  f->src = gst_element_factory_make("appsrc", nullptr);
  GstElement* parse = gst_element_factory_make("h264parse", nullptr);
  GstElement* mux = gst_element_factory_make("mp4mux", nullptr);
  GstElement* sink = gst_element_factory_make("filesink", nullptr);
  if (!f->src || !parse || !mux || !sink) {
    for (GstElement* e : {f->src, parse, mux, sink})
      if (e) gst_object_unref(e);
    f->src = nullptr;
    clip_warning(self, "cannot write " + f->path + ": appsrc, h264parse, mp4mux or filesink is missing");
    return false;
  }
  // Unbounded, never blocking: the writer thread pushes what the planner decided.
  g_object_set(f->src, "format", GST_FORMAT_TIME, "caps", gst_sample_get_caps(sample), "max-bytes",
               static_cast<guint64>(0), "block", FALSE, nullptr);
  g_object_set(sink, "location", f->path.c_str(), nullptr);
  gst_bin_add_many(GST_BIN(f->pipeline), f->src, parse, mux, sink, nullptr);
  if (!gst_element_link_many(f->src, parse, mux, sink, nullptr) ||
      gst_element_set_state(f->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GstBus* bus = gst_element_get_bus(f->pipeline);
    GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    std::string why = "cannot start its writer";
    if (m) {
      GError* err = nullptr;
      gst_message_parse_error(m, &err, nullptr);
      why = err->message;
      g_error_free(err);
      gst_message_unref(m);
    }
    gst_object_unref(bus);
    clip_warning(self, "cannot write clip " + f->path + ": " + why);
    gst_element_set_state(f->pipeline, GST_STATE_NULL);
    gst_object_unref(f->pipeline);
    f->pipeline = f->src = nullptr;
    return false;
  }
  f->offset = GST_BUFFER_PTS(gst_sample_get_buffer(sample));
  return true;
}

static void push_sample(ClipFile* f, GstSample* sample) {
  GstBuffer* buf = gst_buffer_copy(gst_sample_get_buffer(sample));  // shares the memory
  GST_BUFFER_PTS(buf) -= f->offset;
  const GstClockTime dts = GST_BUFFER_DTS(buf);
  GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_IS_VALID(dts) && dts >= f->offset ? dts - f->offset : GST_BUFFER_PTS(buf);
  gst_app_src_push_buffer(GST_APP_SRC(f->src), buf);
}

static void post_clip_message(GstAdvadClip* self, const ClipFile& f, const advad::record::ClipSummary& s) {
  // The planner's running times as the raw video's pts (what the frames' metas and JSON lines show).
  GstSegment seg;
  {
    std::lock_guard<std::mutex> lock(self->st->mutex);
    gst_segment_copy_into(&self->st->raw_segment, &seg);
  }
  auto pts_of = [&seg](std::int64_t rt) -> guint64 {
    const guint64 p = gst_segment_position_from_running_time(&seg, GST_FORMAT_TIME, static_cast<GstClockTime>(rt));
    return GST_CLOCK_TIME_IS_VALID(p) ? p : static_cast<guint64>(rt);
  };
  GstStructure* st = gst_structure_new(
      "advad-clip", "file", G_TYPE_STRING, f.path.c_str(), "first-pts", G_TYPE_UINT64,
      pts_of(s.first_pts), "last-pts", G_TYPE_UINT64, pts_of(s.last_pts), "duration",
      G_TYPE_UINT64, static_cast<guint64>(s.end_pts - s.first_pts), "frames", G_TYPE_UINT64,
      static_cast<guint64>(s.samples), "trigger-frame", G_TYPE_UINT64,
      static_cast<guint64>(s.defect_frames.empty() ? 0 : s.defect_frames.front()), nullptr);
  GValue frames = G_VALUE_INIT;
  gst_value_array_init(&frames, static_cast<guint>(s.defect_frames.size()));
  for (auto fr : s.defect_frames) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_UINT64);
    g_value_set_uint64(&v, fr);
    gst_value_array_append_and_take_value(&frames, &v);
  }
  gst_structure_take_value(st, "defect-frames", &frames);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
}

static void finish_file(GstAdvadClip* self, ClipFile* f, const advad::record::ClipSummary& s) {
  if (!f->pipeline) {
    if (!f->failed) clip_warning(self, "clip " + f->path + " got no encoded frames; not written");
    return;
  }
  gst_app_src_end_of_stream(GST_APP_SRC(f->src));
  GstBus* bus = gst_element_get_bus(f->pipeline);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, kClipFinishTimeout,
                                             static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  std::string why;
  if (!m) {
    why = "not finished within 60 s";
  } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    why = err->message;
    g_error_free(err);
  }
  if (m) gst_message_unref(m);
  gst_element_set_state(f->pipeline, GST_STATE_NULL);
  gst_object_unref(f->pipeline);
  f->pipeline = nullptr;
  if (!why.empty()) {
    clip_warning(self, "clip " + f->path + " was not written: " + why);
    return;
  }
  GST_INFO_OBJECT(self, "clip %s: %" G_GUINT64_FORMAT " frames", f->path.c_str(), static_cast<guint64>(s.samples));
  post_clip_message(self, *f, s);
}

static void handle(GstAdvadClip* self, ClipEvent& e) {
  State* st = self->st;
  switch (e.kind) {
    case ClipEvent::Kind::Open:
      st->files[e.clip].path = st->folder + "/" + e.name;
      break;
    case ClipEvent::Kind::Sample: {
      ClipFile& f = st->files[e.clip];
      auto* sample = static_cast<GstSample*>(e.sample.payload.get());
      if (f.failed) break;
      if (!f.pipeline && !start_file(self, &f, sample)) {
        f.failed = true;  // warned once; its later samples are skipped
        break;
      }
      push_sample(&f, sample);
      break;
    }
    case ClipEvent::Kind::Close: {
      finish_file(self, &st->files[e.clip], e.summary);
      st->files.erase(e.clip);
      std::lock_guard<std::mutex> lock(st->mutex);
      --st->pending;
      break;
    }
  }
}

static void writer_loop(GstAdvadClip* self) {
  State* st = self->st;
  for (;;) {
    ClipEvent e;
    {
      std::unique_lock<std::mutex> lock(st->qmutex);
      st->qcv.wait(lock, [st] { return !st->jobs.empty() || st->stopping; });
      if (st->jobs.empty()) break;  // stopping and drained
      e = std::move(st->jobs.front());
      st->jobs.pop_front();
      st->busy = true;
    }
    handle(self, e);
    e = ClipEvent();  // the sample goes back now, not with the next job
    std::lock_guard<std::mutex> lock(st->qmutex);
    st->busy = false;
    if (st->jobs.empty()) st->idle_cv.notify_all();
  }
}

// Waits until the writer has done every queued job (every closed clip written).
static void wait_written(State* st) {
  std::unique_lock<std::mutex> lock(st->qmutex);
  st->idle_cv.wait(lock, [st] { return (st->jobs.empty() && !st->busy) || st->stopping; });
}

// ---------------------------------------------------------------- stream side

// The frame's clip path when it is a defect frame that a clip holds ("" otherwise).
static std::string defect_clip(GstAdvadClip* self, GstPad* pad, GstBuffer* buf) {
  State* st = self->st;
  const AdvadResultPtr res = gst_advad_meta_get_result(buf);
  if (!res || !res->detection || !res->detection->anomalous || !GST_BUFFER_PTS_IS_VALID(buf)) return "";
  // Running time: the encoder shifts its output timestamps (and segment), running time stays.
  GstEvent* seg_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (!seg_event) return "";
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(seg_event, &segment);
  const GstClockTime rt = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  {
    std::lock_guard<std::mutex> lock(st->mutex);
    gst_segment_copy_into(segment, &st->raw_segment);
  }
  gst_event_unref(seg_event);
  if (!GST_CLOCK_TIME_IS_VALID(rt)) return "";
  std::vector<ClipEvent> events;
  std::string label, path;
  bool dropped = false;
  {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (!st->planner) return "";
    const std::string name =
        advad::record::clip_file_name(st->source_now, res->run.empty() ? st->run : res->run, res->frame_number,
                                      advad::wall_clock_now());
    const bool may_open = st->pending < static_cast<int>(st->max_pending_now);
    const DefectOutcome out = st->planner->defect(static_cast<std::int64_t>(rt), res->frame_number,
                                                  name, may_open, &events);
    if (out.kind == DefectOutcome::Kind::Opened) {
      ++st->pending;
      st->dropping = false;
    }
    if (out.kind == DefectOutcome::Kind::Dropped) {
      dropped = !st->dropping;  // one warning per run of dropped clips
      st->dropping = true;
    } else {
      path = st->folder + "/" + out.name;
    }
    enqueue(st, &events);
  }
  if (dropped)
    clip_warning(self, "no clip for defect frame " + std::to_string(res->frame_number) + ": " +
                           std::to_string(st->max_pending_now) +
                           " clips are still being written (max-clips-pending); clips are dropped until one is done");
  return path;
}

static GstBuffer* mark(GstBuffer* buf, const std::string& path) {
  buf = gst_buffer_make_writable(buf);
  std::shared_ptr<AdvadFrameResult> copy = gst_advad_meta_copy_result(buf);
  copy->clip = path;
  gst_advad_meta_set_result(buf, copy);
  return buf;
}

// Live sources: the encoder branch may drop frames rather than hold the
// stream. Files (not live): it holds them, so no clip misses a frame.
static void choose_leakiness(GstAdvadClip* self) {
  GstPad* sinkpad = gst_element_get_static_pad(GST_ELEMENT(self), "sink");
  GstQuery* q = gst_query_new_latency();
  gboolean live = FALSE;
  if (gst_pad_peer_query(sinkpad, q)) gst_query_parse_latency(q, &live, nullptr, nullptr);
  gst_query_unref(q);
  gst_object_unref(sinkpad);
  gst_util_set_object_arg(G_OBJECT(self->queue), "leaky", live ? "downstream" : "no");
  GST_INFO_OBJECT(self, "%s source: the encoder branch %s", live ? "live" : "non-live",
                  live ? "drops frames when behind" : "holds the stream when behind");
}

static GstPadProbeReturn on_tee_sink(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = GST_ADVAD_CLIP(data);
  bool check_live = false;
  {
    std::lock_guard<std::mutex> lock(self->st->mutex);
    check_live = !self->st->live_checked;
    self->st->live_checked = true;
  }
  if (check_live) choose_leakiness(self);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    const std::string path = defect_clip(self, pad, buf);
    if (!path.empty()) GST_PAD_PROBE_INFO_DATA(info) = mark(buf, path);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      const std::string path = defect_clip(self, pad, gst_buffer_list_get(list, i));
      if (path.empty()) continue;
      list = gst_buffer_list_make_writable(list);
      GstBuffer* b = gst_buffer_ref(gst_buffer_list_get(list, i));
      gst_buffer_list_remove(list, i, 1);
      gst_buffer_list_insert(list, static_cast<gint>(i), mark(b, path));
    }
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

// A keyframe every second of stream time, whatever the frame rate (x264enc
// takes key-int-max only before it runs): a clip starts at most ~1 s before
// its pre-roll, and the ring holds at most pre + ~1 s.
static GstPadProbeReturn on_encoder_sink(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = GST_ADVAD_CLIP(data);
  const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  GstClockTime& next = self->st->next_key;
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return GST_PAD_PROBE_OK;
  // Also after a jump back (a new stream).
  if (!GST_CLOCK_TIME_IS_VALID(next) || pts >= next || pts + 2 * GST_SECOND < next) {
    if (GST_CLOCK_TIME_IS_VALID(next))
      gst_pad_send_event(pad, gst_video_event_new_downstream_force_key_unit(GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE,
                                                                             GST_CLOCK_TIME_NONE, TRUE, 0));
    next = pts + kKeyInterval;
  }
  return GST_PAD_PROBE_OK;
}

static GstFlowReturn on_encoded(GstAppSink* sink, gpointer data) {
  auto* self = GST_ADVAD_CLIP(data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buf = gst_sample_get_buffer(sample);
  if (!buf || !GST_BUFFER_PTS_IS_VALID(buf)) {
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }
  advad::record::EncodedSample s;
  const GstClockTime rt = gst_segment_to_running_time(gst_sample_get_segment(sample), GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  if (!GST_CLOCK_TIME_IS_VALID(rt)) {
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }
  s.pts = static_cast<std::int64_t>(rt);
  s.duration = GST_BUFFER_DURATION_IS_VALID(buf) ? static_cast<std::int64_t>(GST_BUFFER_DURATION(buf)) : 0;
  s.keyframe = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  GST_LOG_OBJECT(self, "encoded %" GST_TIME_FORMAT "%s", GST_TIME_ARGS(rt), s.keyframe ? " key" : "");
  s.payload = std::shared_ptr<void>(sample, [](void* p) { gst_sample_unref(static_cast<GstSample*>(p)); });
  std::vector<ClipEvent> events;
  std::lock_guard<std::mutex> lock(self->st->mutex);
  if (self->st->planner) {
    self->st->planner->sample(std::move(s), &events);
    enqueue(self->st, &events);
  }
  return GST_FLOW_OK;
}

// Closes the open clips (shorter post-roll) and queues them for the writer.
static void finish_clips(State* st) {
  std::vector<ClipEvent> events;
  std::lock_guard<std::mutex> lock(st->mutex);
  if (st->planner) st->planner->finish(&events);
  enqueue(st, &events);
}

// EOS on the encoder branch: the appsink posts its EOS (and so the pipeline
// its own) only after every clip is written.
static void on_encoded_eos(GstAppSink*, gpointer data) {
  auto* self = GST_ADVAD_CLIP(data);
  finish_clips(self->st);
  wait_written(self->st);
}

// ---------------------------------------------------------------- start / stop

static bool start(GstAdvadClip* self) {
  State* st = self->st;
  const std::string label = advad_element_label(GST_ELEMENT(self));
  GST_OBJECT_LOCK(self);
  const std::string folder = st->location, source = st->source;
  advad::record::ClipOptions opt;
  opt.pre = static_cast<std::int64_t>(st->pre * GST_SECOND);
  opt.post = static_cast<std::int64_t>(st->post * GST_SECOND);
  opt.max_duration = static_cast<std::int64_t>(st->max_duration * GST_SECOND);
  const guint bitrate = st->bitrate, max_pending = st->max_pending;
  GST_OBJECT_UNLOCK(self);
  if (!self->tee || !self->queue || !self->crop || !self->convert || !self->format || !self->encoder || !self->parse || !self->sink) {
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN,
                      ("%s needs tee, queue, videocrop, videoconvert, x264enc, h264parse and appsink; one is not installed",
                       label.c_str()),
                      (nullptr));
    return false;
  }
  if (folder.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("%s: property location is not set; accepted: an existing, writable folder for the clips",
                       label.c_str()),
                      (nullptr));
    return false;
  }
  if (!g_file_test(folder.c_str(), G_FILE_TEST_IS_DIR)) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("%s: clip folder '%s' (property location) does not exist or is not a folder", label.c_str(),
                       folder.c_str()),
                      ("Create it first."));
    return false;
  }
  if (access(folder.c_str(), W_OK | X_OK) != 0) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("%s: clip folder '%s' (property location) is not writable", label.c_str(), folder.c_str()),
                      (nullptr));
    return false;
  }
  g_object_set(self->encoder, "bitrate", bitrate, nullptr);
  {
    std::lock_guard<std::mutex> lock(st->mutex);
    st->planner = std::make_unique<ClipPlanner>(opt);
    st->run = advad::new_run_id();
    st->folder = folder;
    st->source_now = source;
    st->max_pending_now = max_pending;
    st->pending = 0;
    st->dropping = false;
    st->live_checked = false;
    st->next_key = GST_CLOCK_TIME_NONE;
    gst_segment_init(&st->raw_segment, GST_FORMAT_TIME);
  }
  st->stopping = false;
  st->writer = std::thread(writer_loop, self);
  GST_INFO_OBJECT(self, "clips into %s, run %s", folder.c_str(), st->run.c_str());
  return true;
}

static void stop(GstAdvadClip* self) {
  State* st = self->st;
  if (!st->writer.joinable()) return;
  finish_clips(st);
  {
    std::lock_guard<std::mutex> lock(st->qmutex);
    st->stopping = true;
  }
  st->qcv.notify_one();
  st->writer.join();  // after the queued clips are written
  {
    std::lock_guard<std::mutex> lock(st->qmutex);
    st->idle_cv.notify_all();
  }
  std::lock_guard<std::mutex> lock(st->mutex);
  st->planner.reset();
}

static GstStateChangeReturn gst_advad_clip_change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_ADVAD_CLIP(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && (!advad_check_properties(element) || !start(self)))
    return GST_STATE_CHANGE_FAILURE;
  const GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_advad_clip_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY ||
      (transition == GST_STATE_CHANGE_READY_TO_PAUSED && ret == GST_STATE_CHANGE_FAILURE))
    stop(self);
  return ret;
}

// ---------------------------------------------------------------- properties

static void gst_advad_clip_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_CLIP(object);
  State* st = self->st;
  switch (id) {
    case PROP_LOCATION:
    case PROP_SOURCE: {
      const std::string v = advad_value_string(value);
      GST_OBJECT_LOCK(self);
      (id == PROP_LOCATION ? st->location : st->source) = v;
      GST_OBJECT_UNLOCK(self);
      break;
    }
    case PROP_PRE:
    case PROP_POST:
    case PROP_MAX_DURATION: {
      const double v = g_value_get_double(value);
      const double hi = id == PROP_PRE ? kMaxPre : id == PROP_POST ? kMaxPost : kMaxDuration;
      if (!std::isfinite(v) || v < 0 || v > hi) {
        advad_reject_property(GST_ELEMENT(self), pspec->name, advad_double_text(v),
                              id == PROP_MAX_DURATION ? "finite seconds in 0..86400 (0 = no cap)"
                                                      : "finite seconds in 0.." + advad_double_text(hi));
        return;
      }
      advad_accept_property(GST_ELEMENT(self), pspec->name);
      GST_OBJECT_LOCK(self);
      (id == PROP_PRE ? st->pre : id == PROP_POST ? st->post : st->max_duration) = v;
      GST_OBJECT_UNLOCK(self);
      break;
    }
    case PROP_BITRATE:
      GST_OBJECT_LOCK(self);
      st->bitrate = g_value_get_uint(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_PENDING:
      GST_OBJECT_LOCK(self);
      st->max_pending = g_value_get_uint(value);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void gst_advad_clip_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_CLIP(object);
  State* st = self->st;
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_LOCATION: g_value_set_string(value, st->location.empty() ? nullptr : st->location.c_str()); break;
    case PROP_SOURCE: g_value_set_string(value, st->source.c_str()); break;
    case PROP_PRE: g_value_set_double(value, st->pre); break;
    case PROP_POST: g_value_set_double(value, st->post); break;
    case PROP_MAX_DURATION: g_value_set_double(value, st->max_duration); break;
    case PROP_BITRATE: g_value_set_uint(value, st->bitrate); break;
    case PROP_MAX_PENDING: g_value_set_uint(value, st->max_pending); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_advad_clip_finalize(GObject* object) {
  auto* self = GST_ADVAD_CLIP(object);
  stop(self);
  delete self->st;
  G_OBJECT_CLASS(gst_advad_clip_parent_class)->finalize(object);
}

static void gst_advad_clip_class_init(GstAdvadClipClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_advad_clip_set_property;
  gobject_class->get_property = gst_advad_clip_get_property;
  gobject_class->finalize = gst_advad_clip_finalize;
  element_class->change_state = gst_advad_clip_change_state;

  // Checked by the element (advad_reject_property): every value reaches set_property.
  constexpr auto kChecked = static_cast<GParamFlags>(ADVAD_PARAM_READY | G_PARAM_LAX_VALIDATION);
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Clip folder",
                          "Existing, writable folder the clips are written to, as "
                          "<source>_<run>_f<frame>_<YYYYmmddTHHMMSS.mmmZ>.mp4 (frame: the defect frame that opened "
                          "the clip; UTC time it was seen). Required.",
                          nullptr, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_PRE,
      g_param_spec_double("pre", "Pre-roll",
                          "Seconds of video before the defect frame (0..600): the clip starts at the last keyframe "
                          "at or before defect - pre (keyframes about every second), so it may start up to ~1 s "
                          "earlier. That much encoded video is kept in memory.",
                          -INFINITY, INFINITY, kDefaultPre, kChecked));
  g_object_class_install_property(
      gobject_class, PROP_POST,
      g_param_spec_double("post", "Post-roll",
                          "Seconds of video after the last defect of the clip (0..3600); a defect within a clip "
                          "extends it. Shorter at the end of the stream.",
                          -INFINITY, INFINITY, kDefaultPost, kChecked));
  g_object_class_install_property(
      gobject_class, PROP_MAX_DURATION,
      g_param_spec_double("max-duration", "Maximum clip duration",
                          "Seconds one clip may last (0..86400, 0 = no cap): defects past it open the next clip "
                          "(with its own pre-roll). A clip always holds the defect frame that opened it.",
                          -INFINITY, INFINITY, kDefaultMaxDuration, kChecked));
  g_object_class_install_property(
      gobject_class, PROP_BITRATE,
      g_param_spec_uint("bitrate", "Bitrate", "H.264 bitrate of the clips in kbit/s", 1, 2048000, kDefaultBitrate,
                        ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_SOURCE,
      g_param_spec_string("source", "Source", "Names the stream in the clip file names (e.g. the camera or line)",
                          "", ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_MAX_PENDING,
      g_param_spec_uint("max-clips-pending", "Maximum clips pending",
                        "Clips open or being written at once; a defect that would open one more gets no clip "
                        "(WARNING) until one is written",
                        1, 64, kDefaultMaxPending, ADVAD_PARAM_READY));

  static GstStaticPadTemplate sink_template =
      GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));
  static GstStaticPadTemplate src_template =
      GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw"));
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "advad defect clips", "Filter/Video",
      "Passes video through and writes an MP4 clip (H.264) around each defect frame: from pre seconds before to "
      "post seconds after; overlapping defects extend one clip. The defect frame's result names the clip (the "
      "JSON line's \"clip\"); an element message advad-clip (file, first-pts, last-pts, duration, frames, "
      "trigger-frame, defect-frames) follows each written clip.",
      "advad project");
  GST_DEBUG_CATEGORY_INIT(gst_advad_clip_debug, "advadclip", 0, "advad defect clips");
}

static GstElement* make_child(GstAdvadClip* self, const char* factory, const char* name) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (!e) {
    GST_ERROR_OBJECT(self, "element %s is missing: advadclip needs it (gst-plugins-good / -ugly / -bad)", factory);
    return nullptr;
  }
  gst_bin_add(GST_BIN(self), e);
  return e;
}

// 4:2:0 H.264 needs even sides: an odd last column / row is cropped off the
// clip (the video passing through keeps it).
static GstPadProbeReturn on_crop_caps(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  GstVideoInfo vi;
  if (caps && gst_video_info_from_caps(&vi, caps))
    g_object_set(GST_ADVAD_CLIP(data)->crop, "right", GST_VIDEO_INFO_WIDTH(&vi) % 2, "bottom",
                 GST_VIDEO_INFO_HEIGHT(&vi) % 2, nullptr);
  return GST_PAD_PROBE_OK;
}

static void gst_advad_clip_init(GstAdvadClip* self) {
  self->st = new State();
  self->tee = make_child(self, "tee", "tee");
  self->queue = make_child(self, "queue", "queue");
  self->crop = make_child(self, "videocrop", "crop");
  self->convert = make_child(self, "videoconvert", "convert");
  self->format = make_child(self, "capsfilter", "format");
  self->encoder = make_child(self, "x264enc", "encoder");
  self->parse = make_child(self, "h264parse", "parse");
  self->sink = make_child(self, "appsink", "sink");
  if (!self->tee || !self->queue || !self->crop || !self->convert || !self->format || !self->encoder || !self->parse || !self->sink) return;
  // Up to 2 s of frames wait for the encoder (by timestamps, whatever the size).
  g_object_set(self->queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", 2 * GST_SECOND, nullptr);
  gst_util_set_object_arg(G_OBJECT(self->encoder), "tune", "zerolatency");  // no B-frames: pts in decode order
  gst_util_set_object_arg(G_OBJECT(self->encoder), "speed-preset", "ultrafast");
  g_object_set(self->encoder, "bitrate", kDefaultBitrate, nullptr);
  // 4:2:0: what players decode (from RGB x264 would pick High 4:4:4).
  GstCaps* i420 = gst_caps_from_string("video/x-raw,format=I420");
  g_object_set(self->format, "caps", i420, nullptr);
  gst_caps_unref(i420);
  g_object_set(self->parse, "config-interval", -1, nullptr);  // SPS/PPS at every keyframe: any clip start decodes
  GstCaps* h264 = gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
  g_object_set(self->sink, "caps", h264, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
  gst_caps_unref(h264);
  GstAppSinkCallbacks cb{};
  cb.new_sample = on_encoded;
  cb.eos = on_encoded_eos;
  gst_app_sink_set_callbacks(GST_APP_SINK(self->sink), &cb, self, nullptr);
  gst_element_link_many(self->tee, self->queue, self->crop, self->convert, self->format, self->encoder, self->parse, self->sink, nullptr);

  GstPad* tee_sink = gst_element_get_static_pad(self->tee, "sink");
  GstPad* tee_src = gst_element_request_pad_simple(self->tee, "src_%u");
  gst_pad_add_probe(tee_sink,
                    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_tee_sink, self, nullptr);
  GstPadTemplate* sink_tmpl = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink");
  GstPadTemplate* src_tmpl = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src");
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template("sink", tee_sink, sink_tmpl));
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template("src", tee_src, src_tmpl));
  gst_object_unref(tee_sink);
  gst_object_unref(tee_src);
  GstPad* crop_sink = gst_element_get_static_pad(self->crop, "sink");
  gst_pad_add_probe(crop_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_crop_caps, self, nullptr);
  gst_object_unref(crop_sink);
  GstPad* enc_sink = gst_element_get_static_pad(self->encoder, "sink");
  gst_pad_add_probe(enc_sink, GST_PAD_PROBE_TYPE_BUFFER, on_encoder_sink, self, nullptr);
  gst_object_unref(enc_sink);
}
