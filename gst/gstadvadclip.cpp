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
//
// The stream side (probes, planner, appsink callbacks): advadclip_stream.cpp;
// the writer thread: advadclip_writer.cpp; shared state:
// gstadvadclip_priv.h. This file: the bin, start/stop, state changes,
// properties.
#include <unistd.h>

#include <cmath>

#include "advadcommon.h"
#include "gstadvadclip_priv.h"
#include "render/json_lines_writer.h"

GST_DEBUG_CATEGORY(gst_advad_clip_debug);
#define GST_CAT_DEFAULT gst_advad_clip_debug

namespace {

using advad::record::ClipPlanner;

constexpr double kMaxPre = 600, kMaxPost = 3600, kMaxDuration = 86400;

}  // namespace

G_DEFINE_TYPE(GstAdvadClip, gst_advad_clip, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(advadclip, "advadclip", GST_RANK_NONE, GST_TYPE_ADVAD_CLIP)

enum { PROP_0, PROP_LOCATION, PROP_PRE, PROP_POST, PROP_MAX_DURATION, PROP_BITRATE, PROP_SOURCE, PROP_MAX_PENDING };

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
  st->writer = std::thread(advad_clip_writer_loop, self);
  GST_INFO_OBJECT(self, "clips into %s, run %s", folder.c_str(), st->run.c_str());
  return true;
}

static void stop(GstAdvadClip* self) {
  State* st = self->st;
  if (!st->writer.joinable()) return;
  advad_clip_finish_clips(st);
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
  cb.new_sample = advad_clip_on_encoded;
  cb.eos = advad_clip_on_encoded_eos;
  gst_app_sink_set_callbacks(GST_APP_SINK(self->sink), &cb, self, nullptr);
  gst_element_link_many(self->tee, self->queue, self->crop, self->convert, self->format, self->encoder, self->parse, self->sink, nullptr);

  GstPad* tee_sink = gst_element_get_static_pad(self->tee, "sink");
  GstPad* tee_src = gst_element_request_pad_simple(self->tee, "src_%u");
  gst_pad_add_probe(tee_sink,
                    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    advad_clip_on_tee_sink, self, nullptr);
  GstPadTemplate* sink_tmpl = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink");
  GstPadTemplate* src_tmpl = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src");
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template("sink", tee_sink, sink_tmpl));
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template("src", tee_src, src_tmpl));
  gst_object_unref(tee_sink);
  gst_object_unref(tee_src);
  GstPad* crop_sink = gst_element_get_static_pad(self->crop, "sink");
  gst_pad_add_probe(crop_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, advad_clip_on_crop_caps, self, nullptr);
  gst_object_unref(crop_sink);
  GstPad* enc_sink = gst_element_get_static_pad(self->encoder, "sink");
  gst_pad_add_probe(enc_sink, GST_PAD_PROBE_TYPE_BUFFER, advad_clip_on_encoder_sink, self, nullptr);
  gst_object_unref(enc_sink);
}
