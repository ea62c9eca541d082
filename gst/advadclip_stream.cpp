// advadclip's stream side: a probe on the tee's sink pad reads each frame's
// verdict (GstAdvadMeta) and marks the defect frame with its clip's path; the
// appsink gets the encoded frames. Both feed advad::record::ClipPlanner, whose
// events go to the writer thread (advadclip_writer.cpp). Also the probes that
// force a keyframe every second and crop odd frame sides for the encoder.
#include <gst/video/video.h>

#include "advadmeta.h"
#include "gstadvadclip_priv.h"
#include "render/frame_json.h"

GST_DEBUG_CATEGORY_EXTERN(gst_advad_clip_debug);
#define GST_CAT_DEFAULT gst_advad_clip_debug

namespace {

using advad::record::ClipEvent;
using advad::record::DefectOutcome;

constexpr GstClockTime kKeyInterval = GST_SECOND;

}  // namespace

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
    advad_clip_enqueue(st, &events);
  }
  if (dropped)
    advad_clip_warning(self, "no clip for defect frame " + std::to_string(res->frame_number) + ": " +
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

GstPadProbeReturn advad_clip_on_tee_sink(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
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
GstPadProbeReturn advad_clip_on_encoder_sink(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
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

GstFlowReturn advad_clip_on_encoded(GstAppSink* sink, gpointer data) {
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
    advad_clip_enqueue(self->st, &events);
  }
  return GST_FLOW_OK;
}

// Closes the open clips (shorter post-roll) and queues them for the writer.
void advad_clip_finish_clips(State* st) {
  std::vector<ClipEvent> events;
  std::lock_guard<std::mutex> lock(st->mutex);
  if (st->planner) st->planner->finish(&events);
  advad_clip_enqueue(st, &events);
}

// EOS on the encoder branch: the appsink posts its EOS (and so the pipeline
// its own) only after every clip is written.
void advad_clip_on_encoded_eos(GstAppSink*, gpointer data) {
  auto* self = GST_ADVAD_CLIP(data);
  advad_clip_finish_clips(self->st);
  advad_clip_wait_written(self->st);
}

// 4:2:0 H.264 needs even sides: an odd last column / row is cropped off the
// clip (the video passing through keeps it).
GstPadProbeReturn advad_clip_on_crop_caps(GstPad*, GstPadProbeInfo* info, gpointer data) {
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
