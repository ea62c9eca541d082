// advadclip's writer thread: the planner's events (queued by the stream side,
// advadclip_stream.cpp) become MP4 files, one small pipeline per clip
// (appsrc ! h264parse ! mp4mux ! filesink), so the stream never waits for a
// file. After each written clip an element message advad-clip.
#include <gst/app/gstappsrc.h>

#include "advadcommon.h"
#include "gstadvadclip_priv.h"

GST_DEBUG_CATEGORY_EXTERN(gst_advad_clip_debug);
#define GST_CAT_DEFAULT gst_advad_clip_debug

namespace {

using advad::record::ClipEvent;

constexpr GstClockTime kClipFinishTimeout = 60 * GST_SECOND;  // one clip's mux + write after its EOS

}  // namespace

void advad_clip_enqueue(State* st, std::vector<ClipEvent>* events) {
  if (events->empty()) return;
  {
    std::lock_guard<std::mutex> lock(st->qmutex);
    for (auto& e : *events) st->jobs.push_back(std::move(e));
  }
  events->clear();
  st->qcv.notify_one();
}

void advad_clip_warning(GstAdvadClip* self, const std::string& text) {
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
    advad_clip_warning(self, "cannot write " + f->path + ": appsrc, h264parse, mp4mux or filesink is missing");
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
    advad_clip_warning(self, "cannot write clip " + f->path + ": " + why);
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
    if (!f->failed) advad_clip_warning(self, "clip " + f->path + " got no encoded frames; not written");
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
    advad_clip_warning(self, "clip " + f->path + " was not written: " + why);
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

void advad_clip_writer_loop(GstAdvadClip* self) {
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
void advad_clip_wait_written(State* st) {
  std::unique_lock<std::mutex> lock(st->qmutex);
  st->idle_cv.wait(lock, [st] { return (st->jobs.empty() && !st->busy) || st->stopping; });
}
