// advadoverlay: shows the results. It draws the heatmap, region contours and
// boxes and a verdict/score label onto the frame (in its own format, in
// place), and/or writes one JSON line per frame (json-location). With
// metadata-only=true it never touches pixels (passthrough) and only writes.
// Drawing and JSON building live in src/render; this file maps properties.
#include "gstadvadoverlay.h"

#include <gst/video/video.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "advadcommon.h"
#include "advadenums.h"
#include "advadmeta.h"
#include "advadrecord.h"
#include "core/error.h"
#include "render/frame_json.h"
#include "render/json_lines_writer.h"
#include "render/overlay.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_overlay_debug);
#define GST_CAT_DEFAULT gst_advad_overlay_debug

namespace {

struct OverlaySettings {
  double opacity = -1;
  gint colormap = GST_ADVAD_COLORMAP_PROFILE;
  guint draw = GST_ADVAD_DRAW_ALL;
  bool draw_set = false;  // draw given explicitly: overrides the profile's [overlay] switches
  double heatmap_max = 0;
  double heatmap_floor = -1;  // -1: the profile's [overlay] heatmap_floor, else half the threshold
  gboolean metadata_only = FALSE;
  std::string json_location;
  GstAdvadJsonMode json_mode = GST_ADVAD_JSON_APPEND;
  guint64 json_max_bytes = 0;
  guint json_max_files = 5;
  gboolean json_contours = FALSE;
  std::string source;
};

}  // namespace

struct OverlayState {
  OverlaySettings settings;  // guarded by the object lock
  std::unique_ptr<advad::JsonLinesWriter> json;
  std::string run;  // id of this run (new at each READY->PAUSED)
  GstVideoInfo info;
  advad::PixelFormat format = advad::PixelFormat::RGB;
  guint64 frames = 0;  // own count, for frames that come without a result
  gboolean warned_caps = FALSE, warned_no_result = FALSE;
};

struct _GstAdvadOverlay {
  GstBaseTransform parent;
  OverlayState* st;
};

G_DEFINE_TYPE(GstAdvadOverlay, gst_advad_overlay, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadoverlay, "advadoverlay", GST_RANK_NONE, GST_TYPE_ADVAD_OVERLAY)

enum {
  PROP_0,
  PROP_OPACITY,
  PROP_COLORMAP,
  PROP_DRAW,
  PROP_HEATMAP_MAX,
  PROP_METADATA_ONLY,
  PROP_JSON_LOCATION,
  PROP_JSON_CONTOURS,
  PROP_SOURCE,
  PROP_HEATMAP_FLOOR,
  PROP_JSON_MODE,
  PROP_JSON_MAX_BYTES,
  PROP_JSON_MAX_FILES
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

static void gst_advad_overlay_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_OVERLAY(object);
  // Doubles GLib lets through but that mean nothing (NaN, negatives other than -1): rejected, reported at
  // READY->PAUSED (or at once when running).
  if (id == PROP_OPACITY || id == PROP_HEATMAP_MAX || id == PROP_HEATMAP_FLOOR) {
    const double v = g_value_get_double(value);
    const bool ok = id == PROP_OPACITY ? advad_sentinel_double_ok(v, 0.0, 1.0)
                    : id == PROP_HEATMAP_MAX ? std::isfinite(v) && v >= 0
                                             : advad_sentinel_double_ok(v, 0.0, G_MAXDOUBLE);
    if (!ok) {
      advad_reject_property(GST_ELEMENT(self), pspec->name, advad_double_text(v),
                            id == PROP_OPACITY      ? "0..1, or exactly -1 for the profile's [overlay] opacity"
                            : id == PROP_HEATMAP_MAX ? "a finite score >= 0 (0 = twice the threshold)"
                                                     : "a finite score >= 0, or exactly -1 for the profile's "
                                                       "[overlay] heatmap_floor (else half the threshold)");
      return;
    }
    advad_accept_property(GST_ELEMENT(self), pspec->name);
  }
  GST_OBJECT_LOCK(self);
  OverlaySettings& s = self->st->settings;
  gboolean passthrough = s.metadata_only;
  switch (id) {
    case PROP_OPACITY: s.opacity = g_value_get_double(value); break;
    case PROP_COLORMAP: s.colormap = g_value_get_enum(value); break;
    case PROP_DRAW:
      s.draw = g_value_get_flags(value);
      s.draw_set = true;
      break;
    case PROP_HEATMAP_MAX: s.heatmap_max = g_value_get_double(value); break;
    case PROP_HEATMAP_FLOOR: s.heatmap_floor = g_value_get_double(value); break;
    case PROP_METADATA_ONLY: s.metadata_only = passthrough = g_value_get_boolean(value); break;
    case PROP_JSON_LOCATION: s.json_location = advad_value_string(value); break;
    case PROP_JSON_CONTOURS: s.json_contours = g_value_get_boolean(value); break;
    case PROP_SOURCE: s.source = advad_value_string(value); break;
    case PROP_JSON_MODE: s.json_mode = static_cast<GstAdvadJsonMode>(g_value_get_enum(value)); break;
    case PROP_JSON_MAX_BYTES: s.json_max_bytes = g_value_get_uint64(value); break;
    case PROP_JSON_MAX_FILES: s.json_max_files = g_value_get_uint(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
  // metadata-only: the buffer is neither made writable nor mapped for writing.
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), passthrough);
}

static void gst_advad_overlay_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_OVERLAY(object);
  GST_OBJECT_LOCK(self);
  const OverlaySettings& s = self->st->settings;
  switch (id) {
    case PROP_OPACITY: g_value_set_double(value, s.opacity); break;
    case PROP_COLORMAP: g_value_set_enum(value, s.colormap); break;
    case PROP_DRAW: g_value_set_flags(value, s.draw); break;
    case PROP_HEATMAP_MAX: g_value_set_double(value, s.heatmap_max); break;
    case PROP_HEATMAP_FLOOR: g_value_set_double(value, s.heatmap_floor); break;
    case PROP_METADATA_ONLY: g_value_set_boolean(value, s.metadata_only); break;
    case PROP_JSON_LOCATION: g_value_set_string(value, s.json_location.c_str()); break;
    case PROP_JSON_CONTOURS: g_value_set_boolean(value, s.json_contours); break;
    case PROP_SOURCE: g_value_set_string(value, s.source.c_str()); break;
    case PROP_JSON_MODE: g_value_set_enum(value, s.json_mode); break;
    case PROP_JSON_MAX_BYTES: g_value_set_uint64(value, s.json_max_bytes); break;
    case PROP_JSON_MAX_FILES: g_value_set_uint(value, s.json_max_files); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_advad_overlay_start(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_OVERLAY(trans);
  OverlayState* st = self->st;
  GST_OBJECT_LOCK(self);
  const OverlaySettings s = st->settings;
  GST_OBJECT_UNLOCK(self);
  st->frames = 0;
  st->run = advad::new_run_id();
  if (s.json_location.empty()) return TRUE;
  advad::JsonLinesWriter::Options o;
  o.mode = s.json_mode == GST_ADVAD_JSON_OVERWRITE ? advad::JsonLinesWriter::Mode::Overwrite
                                                   : advad::JsonLinesWriter::Mode::Append;
  o.max_bytes = s.json_max_bytes;
  o.max_files = s.json_max_files;
  try {
    st->json = std::make_unique<advad::JsonLinesWriter>(s.json_location, o);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", e.what()),
                      ("Set 'json-location' to a file in an existing, writable folder."));
    return FALSE;
  }
  GST_INFO_OBJECT(self, "run %s: JSON lines to %s (%s)", st->run.c_str(), s.json_location.c_str(),
                  o.mode == advad::JsonLinesWriter::Mode::Append ? "append" : "overwrite");
  return TRUE;
}

// Puts the lines on the disk (EOS, stop); false after posting an error.
static bool sync_json(GstAdvadOverlay* self) {
  if (!self->st->json) return true;
  try {
    self->st->json->sync();
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    return false;
  }
  return true;
}

static gboolean gst_advad_overlay_stop(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_OVERLAY(trans);
  sync_json(self);
  self->st->json.reset();
  return TRUE;
}

static gboolean gst_advad_overlay_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  OverlayState* st = GST_ADVAD_OVERLAY(trans)->st;
  return gst_video_info_from_caps(&st->info, incaps) &&
         advad_pixel_format(GST_VIDEO_INFO_FORMAT(&st->info), &st->format);
}

static advad::OverlayStyle overlay_style(const AdvadFrameResult& res, const OverlaySettings& s) {
  advad::OverlayStyle style = res.profile ? advad::overlay_style_from(res.profile->overlay) : advad::OverlayStyle();
  if (s.opacity >= 0) style.opacity = s.opacity;
  if (const char* name = gst_advad_colormap_nick(s.colormap)) style.colormap = advad::colormap_id(name);
  if (s.draw_set) {
    style.heatmap = s.draw & GST_ADVAD_DRAW_HEATMAP;
    style.contours = s.draw & GST_ADVAD_DRAW_CONTOURS;
    style.boxes = s.draw & GST_ADVAD_DRAW_BOXES;
    style.label = s.draw & GST_ADVAD_DRAW_LABEL;
  }
  style.full_scale = s.heatmap_max;
  if (s.heatmap_floor >= 0) style.heatmap_floor = s.heatmap_floor;  // else the profile's, else half the threshold
  return style;
}

static GstFlowReturn gst_advad_overlay_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_OVERLAY(trans);
  OverlayState* st = self->st;
  GST_OBJECT_LOCK(self);
  const OverlaySettings s = st->settings;
  GST_OBJECT_UNLOCK(self);
  const guint64 own_count = st->frames++;
  const AdvadResultPtr res = gst_advad_meta_get_result(buf);
  if ((!res || (!res->map && res->unscored_reason.empty())) && !st->warned_no_result) {
    GST_ELEMENT_WARNING(self, STREAM, FAILED, ("Frames arrive without anomaly results; nothing to draw."),
                        ("Put advadinfer (and advadpostproc) in front of advadoverlay."));
    st->warned_no_result = TRUE;
  }
  try {
    if (st->json) {
      try {
        st->json->write(advad::frame_json_line(
            advad_frame_record(buf, &st->info, res.get(), own_count, st->run, s.source, s.json_contours)));
      } catch (const advad::InputError& e) {
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
        return GST_FLOW_ERROR;
      }
    }
    const bool unscored = res && !res->unscored_reason.empty();
    if (s.metadata_only || !res || (!res->map && !unscored)) return GST_FLOW_OK;
    const advad::OverlayStyle style = overlay_style(*res, s);
    advad::OverlayContent content;
    const bool scored_map = !unscored && res->map;
    // Only the heatmap reads the map's pixels: a map left on the device comes down for it
    // alone. Without it an empty map still says "scored" (the label is drawn).
    static const cv::Mat overlay_map_without_pixels;
    content.map = !scored_map ? nullptr : style.heatmap ? &res->map->host_map() : &overlay_map_without_pixels;
    content.detection = unscored ? nullptr : res->detection.get();
    // The label shows the threshold's scale, as the JSON does.
    content.score = scored_map ? static_cast<float>(res->map->max_value()) : 0.f;
    content.unscored = res->unscored_reason;
    content.threshold = res->detection ? res->threshold : (res->profile ? res->profile->threshold : 0.0);
    content.carried = res->carried;
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &st->info, buf, GST_MAP_READWRITE)) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot map the frame for drawing."), (nullptr));
      return GST_FLOW_ERROR;
    }
    cv::Mat pixels = advad_frame_mat(&frame);
    try {
      advad::draw_overlay(pixels, st->format, content, style);
    } catch (...) {
      gst_video_frame_unmap(&frame);
      throw;
    }
    gst_video_frame_unmap(&frame);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Overlay failed: %s", e.what()), (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean gst_advad_overlay_query(GstBaseTransform* trans, GstPadDirection dir, GstQuery* query) {
  auto* self = GST_ADVAD_OVERLAY(trans);
  if (dir == GST_PAD_SINK) advad_check_sink_query(GST_ELEMENT(self), query, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_overlay_parent_class)->query(trans, dir, query);
}

static gboolean gst_advad_overlay_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_OVERLAY(trans);
  advad_check_sink_event(GST_ELEMENT(self), event, &self->st->warned_caps);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && !sync_json(self)) {
    gst_event_unref(event);
    return FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_advad_overlay_parent_class)->sink_event(trans, event);
}

// READY->PAUSED fails when a property holds a rejected value (see advad_reject_property).
static GstStateChangeReturn gst_advad_overlay_change_state(GstElement* element, GstStateChange transition) {
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !advad_check_properties(element))
    return GST_STATE_CHANGE_FAILURE;
  return GST_ELEMENT_CLASS(gst_advad_overlay_parent_class)->change_state(element, transition);
}

static void gst_advad_overlay_finalize(GObject* object) {
  auto* self = GST_ADVAD_OVERLAY(object);
  delete self->st;
  G_OBJECT_CLASS(gst_advad_overlay_parent_class)->finalize(object);
}

static void gst_advad_overlay_class_init(GstAdvadOverlayClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = gst_advad_overlay_set_property;
  gobject_class->get_property = gst_advad_overlay_get_property;
  gobject_class->finalize = gst_advad_overlay_finalize;

  g_object_class_install_property(
      gobject_class, PROP_OPACITY,
      g_param_spec_double("opacity", "Heatmap opacity",
                          "Opacity of the heatmap blended over the frame, from 0 (invisible) to 1 (opaque); -1 (the "
                          "default) uses the profile's [overlay] opacity. Any other value (other negative values, "
                          "above 1, NaN) is an error.",
                          -INFINITY, INFINITY, -1.0, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_COLORMAP,
      g_param_spec_enum("colormap", "Colormap", "Colours of the heatmap, from low to high anomaly score.",
                        GST_TYPE_ADVAD_COLORMAP, GST_ADVAD_COLORMAP_PROFILE, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_DRAW,
      g_param_spec_flags("draw", "Draw",
                         "What to draw onto the frame. Until it is set, the profile's [overlay] switches decide (all "
                         "on by default).",
                         GST_TYPE_ADVAD_DRAW, GST_ADVAD_DRAW_ALL, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_HEATMAP_MAX,
      g_param_spec_double("heatmap-max", "Heatmap full scale",
                          "Anomaly score drawn with the top colour of the colormap; 0 (the default) uses twice the "
                          "threshold, so the threshold sits in the middle of the colormap. Negative values, NaN and "
                          "infinity are an error.",
                          -INFINITY, INFINITY, 0.0, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_HEATMAP_FLOOR,
      g_param_spec_double("heatmap-floor", "Heatmap floor",
                          "Anomaly score below which the heatmap is not drawn, so a normal frame looks like the "
                          "camera image; 0 draws it wherever the score is >= 0. -1 (the default) uses the profile's "
                          "[overlay] heatmap_floor, or half the frame's threshold when the profile has none. Other "
                          "negative values, NaN and infinity are an error.",
                          -INFINITY, INFINITY, -1.0, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_METADATA_ONLY,
      g_param_spec_boolean("metadata-only", "Metadata only",
                           "Do not draw: frames pass through untouched and only the JSON lines are written.", FALSE,
                           ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_JSON_LOCATION,
      g_param_spec_string("json-location", "JSON lines file",
                          "File that receives one JSON line per frame (run, frame, pts, wall clock, category, model, "
                          "score, verdict, carried, regions; see json-mode), flushed as written and synced to the "
                          "disk at EOS and stop; \"-\" writes to standard output, empty writes none. A file that "
                          "cannot be opened or written (missing folder, permission, full disk) is an ERROR naming it.",
                          "", ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_JSON_MODE,
      g_param_spec_enum("json-mode", "JSON mode",
                        "append keeps what an earlier run wrote (each line has a \"run\" id, new at every start, so "
                        "(run, frame) stays unique across restarts); overwrite starts the file anew.",
                        GST_TYPE_ADVAD_JSON_MODE, GST_ADVAD_JSON_APPEND, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_JSON_MAX_BYTES,
      g_param_spec_uint64("json-max-bytes", "JSON file size limit",
                          "Rotate the JSON lines file before a line would take it past this many bytes: the file "
                          "becomes <file>.1, <file>.1 becomes <file>.2, ...; 0 never rotates; 0..9223372036854775807.",
                          0, G_MAXINT64, 0, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_JSON_MAX_FILES,
      g_param_spec_uint("json-max-files", "JSON files kept",
                        "Files kept when rotating, the current one included; older ones are deleted.", 1, 10000, 5,
                        ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_JSON_CONTOURS,
      g_param_spec_boolean("json-contours", "JSON contours",
                           "Add each region's outer contour points to the JSON lines.", FALSE, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_SOURCE,
      g_param_spec_string("source", "Source name",
                          "Free text written as the \"source\" field of every JSON line (for example a camera name); "
                          "empty leaves the field out.",
                          "", ADVAD_PARAM_PLAYING));

  gst_element_class_set_static_metadata(
      element_class, "advad overlay", "Filter/Effect/Video",
      "Draws the anomaly heatmap, defect contours, boxes and a verdict/score label onto the frame and/or writes one "
      "JSON line per frame",
      "advad project");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_advad_overlay_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR(gst_advad_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_advad_overlay_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_advad_overlay_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_advad_overlay_transform_ip);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_advad_overlay_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_advad_overlay_sink_event);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = TRUE;  // metadata-only still writes JSON

  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_JSON_MODE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_COLORMAP, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_DRAW, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_advad_overlay_debug, "advadoverlay", 0, "advad overlay");
}

static void gst_advad_overlay_init(GstAdvadOverlay* self) {
  self->st = new OverlayState();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
