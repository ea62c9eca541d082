// advadpostproc: turns advadinfer's anomaly map into a decision. Threshold,
// morphology (blur, close, fill holes, erode, min area, foreground gate — as
// the profile says, with properties overriding it), connected regions; it
// attaches mask, regions and verdict to the GstAdvadMeta, adds one
// GstVideoRegionOfInterestMeta of type "defect" per region, and posts an
// element message "advad-detection" per frame. Pixels pass through untouched.
#include "gstadvadpostproc.h"

#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include <cmath>
#include <string>

#include "advadcommon.h"
#include "advadenums.h"
#include "advadmeta.h"
#include "core/error.h"
#include "core/postproc.h"
#include "core/postproc_tensor.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_postproc_debug);
#define GST_CAT_DEFAULT gst_advad_postproc_debug

namespace {

struct PostprocSettings {
  std::string profile;
  std::string split;
  double threshold = -1;
  std::string close_kernel, erode_kernel;
  gint min_area = -1;
  GstAdvadSwitch fill_holes = GST_ADVAD_SWITCH_PROFILE;
  gboolean post_messages = TRUE;
  gboolean attach_roi = TRUE;
  guint generation = 0;  // bumped on every change: invalidates the cached detection
};

}  // namespace

struct PostprocState {
  PostprocSettings settings;  // guarded by the object lock
  std::shared_ptr<const advad::Profile> profile;  // own profile (optional)
  GstVideoInfo info;
  advad::PixelFormat format = advad::PixelFormat::RGB;
  // The last detection, reused for frames that carry the same map.
  const advad::AnomalyMap* cached_map = nullptr;
  std::shared_ptr<const advad::AnomalyMap> cached_map_owner;
  guint cached_generation = 0;
  std::shared_ptr<const advad::Detection> cached_detection;
  double cached_threshold = 0;
  gboolean warned_caps = FALSE, warned_no_map = FALSE;
  // The split property checked against the profile the frames use (see postproc_check_split).
  std::shared_ptr<const advad::Profile> split_checked_profile;
  std::string split_checked;
  bool split_error = false;  // the split is not in that profile: an ERROR was posted
};

struct _GstAdvadPostproc {
  GstBaseTransform parent;
  PostprocState* st;
};

G_DEFINE_TYPE(GstAdvadPostproc, gst_advad_postproc, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadpostproc, "advadpostproc", GST_RANK_NONE, GST_TYPE_ADVAD_POSTPROC)

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_SPLIT,
  PROP_THRESHOLD,
  PROP_CLOSE_KERNEL,
  PROP_ERODE_KERNEL,
  PROP_MIN_AREA,
  PROP_FILL_HOLES,
  PROP_POST_MESSAGES,
  PROP_ATTACH_ROI
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

static void gst_advad_postproc_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_POSTPROC(object);
  PostprocSettings& s = self->st->settings;
  // Values GLib lets through but that mean nothing: rejected, reported at READY->PAUSED (or at once when running).
  if (id == PROP_CLOSE_KERNEL || id == PROP_ERODE_KERNEL) {
    int w, h;
    bool set;
    if (!advad_parse_kernel(advad_value_string(value), &w, &h, &set)) {
      advad_reject_property(GST_ELEMENT(self), pspec->name, advad_value_string(value),
                            "N or WxH with sides 1..1000 (e.g. 5 or 7x3), 0 or off for none, empty for the profile's "
                            "value");
      return;
    }
  } else if (id == PROP_THRESHOLD && !advad_sentinel_double_ok(g_value_get_double(value), 0.0, G_MAXDOUBLE)) {
    advad_reject_property(GST_ELEMENT(self), pspec->name, advad_double_text(g_value_get_double(value)),
                          "a finite score >= 0, or exactly -1 for the profile's threshold of the selected split");
    return;
  } else if (id == PROP_MIN_AREA && g_value_get_int(value) < -1) {
    advad_reject_property(GST_ELEMENT(self), pspec->name, std::to_string(g_value_get_int(value)),
                          "a pixel count >= 0 (0 keeps all regions), or exactly -1 for the profile's min_area");
    return;
  }
  advad_accept_property(GST_ELEMENT(self), pspec->name);
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_PROFILE: s.profile = advad_value_string(value); break;
    case PROP_SPLIT: s.split = advad_value_string(value); break;
    case PROP_THRESHOLD: s.threshold = g_value_get_double(value); break;
    case PROP_CLOSE_KERNEL: s.close_kernel = advad_value_string(value); break;
    case PROP_ERODE_KERNEL: s.erode_kernel = advad_value_string(value); break;
    case PROP_MIN_AREA: s.min_area = g_value_get_int(value); break;
    case PROP_FILL_HOLES: s.fill_holes = static_cast<GstAdvadSwitch>(g_value_get_enum(value)); break;
    case PROP_POST_MESSAGES: s.post_messages = g_value_get_boolean(value); break;
    case PROP_ATTACH_ROI: s.attach_roi = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  s.generation++;
  GST_OBJECT_UNLOCK(self);
}

static void gst_advad_postproc_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_POSTPROC(object);
  GST_OBJECT_LOCK(self);
  const PostprocSettings& s = self->st->settings;
  switch (id) {
    case PROP_PROFILE: g_value_set_string(value, s.profile.c_str()); break;
    case PROP_SPLIT: g_value_set_string(value, s.split.c_str()); break;
    case PROP_THRESHOLD: g_value_set_double(value, s.threshold); break;
    case PROP_CLOSE_KERNEL: g_value_set_string(value, s.close_kernel.c_str()); break;
    case PROP_ERODE_KERNEL: g_value_set_string(value, s.erode_kernel.c_str()); break;
    case PROP_MIN_AREA: g_value_set_int(value, s.min_area); break;
    case PROP_FILL_HOLES: g_value_set_enum(value, s.fill_holes); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_ATTACH_ROI: g_value_set_boolean(value, s.attach_roi); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

// The split property must name a split of the profile the frames are
// post-processed with (own 'profile', else the one in the meta). Checked when
// that profile or the split changes; otherwise posts one GST_ELEMENT_ERROR
// naming the element, the split, the profile file and its splits, sets
// st->split_error and returns false.
static bool postproc_check_split(GstAdvadPostproc* self, const std::shared_ptr<const advad::Profile>& profile,
                                 const std::string& split) {
  PostprocState* st = self->st;
  if (!profile || (profile == st->split_checked_profile && split == st->split_checked)) return !st->split_error;
  st->split_checked_profile = profile;
  st->split_checked = split;
  st->split_error = false;
  try {
    profile->check_split(split);
  } catch (const advad::ProfileError& e) {
    const std::string label = advad_element_label(GST_ELEMENT(self));
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s: property split = '%s' is not accepted: %s", label.c_str(),
                                                 split.c_str(), e.what()),
                      ("Set 'split' to one of the profile's splits, or leave it empty for its defaults."));
    st->split_error = true;
  }
  return !st->split_error;
}

static gboolean gst_advad_postproc_start(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_POSTPROC(trans);
  GST_OBJECT_LOCK(self);
  const std::string path = self->st->settings.profile;
  GST_OBJECT_UNLOCK(self);
  self->st->profile.reset();
  self->st->cached_map = nullptr;
  self->st->cached_map_owner.reset();
  self->st->cached_detection.reset();
  self->st->split_checked_profile.reset();
  self->st->split_error = false;
  if (!advad_check_properties(GST_ELEMENT(self))) return FALSE;
  if (path.empty()) return TRUE;  // use the profile that comes with the frames (split checked on the first frame)
  self->st->profile = advad_load_profile(GST_ELEMENT(self), path, false);
  if (!self->st->profile) return FALSE;
  GST_OBJECT_LOCK(self);
  const std::string split = self->st->settings.split;
  GST_OBJECT_UNLOCK(self);
  return postproc_check_split(self, self->st->profile, split);
}

static gboolean gst_advad_postproc_stop(GstBaseTransform* trans) {
  PostprocState* st = GST_ADVAD_POSTPROC(trans)->st;
  st->split_checked_profile.reset();
  st->split_error = false;
  st->profile.reset();
  st->cached_map = nullptr;
  st->cached_map_owner.reset();
  st->cached_detection.reset();
  return TRUE;
}

static gboolean gst_advad_postproc_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  PostprocState* st = GST_ADVAD_POSTPROC(trans)->st;
  return gst_video_info_from_caps(&st->info, incaps) &&
         advad_pixel_format(GST_VIDEO_INFO_FORMAT(&st->info), &st->format);
}

static GstStructure* region_structure(const advad::Region& r) {
  return gst_structure_new("advad-region", "x", G_TYPE_INT, r.box.x, "y", G_TYPE_INT, r.box.y, "width", G_TYPE_INT,
                           r.box.width, "height", G_TYPE_INT, r.box.height, "area", G_TYPE_INT, r.area,
                           "max-score", G_TYPE_DOUBLE, static_cast<double>(r.max_score), "mean-score", G_TYPE_DOUBLE,
                           static_cast<double>(r.mean_score), nullptr);
}

static void post_detection_message(GstAdvadPostproc* self, GstBuffer* buf, const AdvadFrameResult& res) {
  const advad::Detection* det = res.detection.get();
  GValue regions = G_VALUE_INIT;
  gst_value_array_init(&regions, det ? det->regions.size() : 0);
  if (det)
    for (const auto& r : det->regions) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, GST_TYPE_STRUCTURE);
      g_value_take_boxed(&v, region_structure(r));
      gst_value_array_append_and_take_value(&regions, &v);
    }
  // An unscored frame has no score and no verdict but "unscored" (never "ok").
  const char* verdict = !res.unscored_reason.empty() ? "unscored" : (det->anomalous ? "defect" : "ok");
  GstStructure* s = gst_structure_new(
      "advad-detection", "frame", G_TYPE_UINT64, res.frame_number, "timestamp", G_TYPE_UINT64, GST_BUFFER_PTS(buf),
      "verdict", G_TYPE_STRING, verdict, "anomalous", G_TYPE_BOOLEAN, det && det->anomalous, "carried",
      G_TYPE_BOOLEAN, res.carried, "scored-frame", G_TYPE_UINT64, res.scored_frame, "model", G_TYPE_STRING,
      res.model_id.c_str(), nullptr);
  if (det)
    gst_structure_set(s, "score", G_TYPE_DOUBLE, static_cast<double>(det->score), "image-score", G_TYPE_DOUBLE,
                      static_cast<double>(det->image_score), "threshold", G_TYPE_DOUBLE, res.threshold, nullptr);
  else
    gst_structure_set(s, "reason", G_TYPE_STRING, res.unscored_reason.c_str(), "detail", G_TYPE_STRING,
                      res.unscored_detail.c_str(), nullptr);
  gst_structure_take_value(s, "regions", &regions);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static void attach_rois(GstBuffer* buf, const advad::Detection& det) {
  int id = 0;
  for (const auto& r : det.regions) {
    GstVideoRegionOfInterestMeta* roi = gst_buffer_add_video_region_of_interest_meta(
        buf, "defect", static_cast<guint>(r.box.x), static_cast<guint>(r.box.y), static_cast<guint>(r.box.width),
        static_cast<guint>(r.box.height));
    roi->id = id++;
    gst_video_region_of_interest_meta_add_param(roi, region_structure(r));
  }
}

// Per frame, before transform_ip: checks the split against the profile this
// frame uses (a no-op unless that profile or the split changed).
static void gst_advad_postproc_before_transform(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_POSTPROC(trans);
  GST_OBJECT_LOCK(self);
  const std::string split = self->st->settings.split;
  GST_OBJECT_UNLOCK(self);
  if (self->st->profile) {
    postproc_check_split(self, self->st->profile, split);
    return;
  }
  const AdvadResultPtr res = gst_advad_meta_get_result(buf);
  if (res) postproc_check_split(self, res->profile, split);
}

static GstFlowReturn gst_advad_postproc_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_POSTPROC(trans);
  PostprocState* st = self->st;
  GST_OBJECT_LOCK(self);
  const PostprocSettings s = st->settings;
  GST_OBJECT_UNLOCK(self);
  if (st->split_error) return GST_FLOW_ERROR;  // posted by before_transform (postproc_check_split)

  auto result = gst_advad_meta_copy_result(buf);
  if (!result->unscored_reason.empty()) {
    // Nothing to decide on: no mask, no regions, no ROI metas.
    result->detection.reset();
    if (s.post_messages) post_detection_message(self, buf, *result);
    gst_advad_meta_set_result(buf, std::move(result));
    return GST_FLOW_OK;
  }
  if (!result->map) {
    if (!st->warned_no_map) {
      GST_ELEMENT_WARNING(self, STREAM, FAILED, ("Frames arrive without an anomaly map; passing them on unchanged."),
                          ("Put advadinfer in front of advadpostproc."));
      st->warned_no_map = TRUE;
    }
    return GST_FLOW_OK;
  }
  const advad::Profile* profile = st->profile ? st->profile.get() : result->profile.get();
  if (!profile) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No profile for post-processing."),
                      ("Set advadpostproc's 'profile' property."));
    return GST_FLOW_ERROR;
  }

  if (st->cached_detection && st->cached_map == result->map.get() && st->cached_generation == s.generation) {
    result->detection = st->cached_detection;
    result->threshold = st->cached_threshold;
  } else {
    advad::PostprocSpec spec = profile->post_for(s.split);
    bool set = false;
    advad_parse_kernel(s.close_kernel, &spec.close_w, &spec.close_h, &set);  // validated in set_property
    advad_parse_kernel(s.erode_kernel, &spec.erode_w, &spec.erode_h, &set);
    if (s.min_area >= 0) spec.min_area = s.min_area;
    if (s.fill_holes != GST_ADVAD_SWITCH_PROFILE) spec.fill_holes = s.fill_holes == GST_ADVAD_SWITCH_ON;
    const double threshold = s.threshold >= 0 ? s.threshold : profile->threshold_for(s.split);
    try {
      cv::Mat rgb;
      GstVideoFrame frame;
      if (spec.foreground_gate) {
        if (!gst_video_frame_map(&frame, &st->info, buf, GST_MAP_READ)) return GST_FLOW_ERROR;
        rgb = advad::to_rgb(advad_frame_mat(&frame), st->format);  // a copy: safe after unmap
        gst_video_frame_unmap(&frame);
      }
      // On the map's device when advadinfer left it there (core/postproc_tensor.h).
      result->detection =
          std::make_shared<const advad::Detection>(advad::postprocess(*result->map, threshold, spec, rgb));
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Post-processing failed: %s", e.what()), (nullptr));
      return GST_FLOW_ERROR;
    }
    result->threshold = threshold;
    st->cached_map = result->map.get();
    st->cached_map_owner = result->map;
    st->cached_generation = s.generation;
    st->cached_detection = result->detection;
    st->cached_threshold = threshold;
  }
  // A map left on the device stays there on the buffer: downstream reads its pixels
  // through host_map() (the overlay's heatmap), its maximum as one scalar (label, JSON),
  // so a frame nobody draws never downloads its float map. Buffers held downstream
  // (clip pre-roll) keep their device map until released.
  GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT ": %s, %zu regions", result->frame_number,
                 result->detection->anomalous ? "defect" : "ok", result->detection->regions.size());
  if (result->stats && result->detection->anomalous) result->stats->defect();
  if (s.attach_roi) attach_rois(buf, *result->detection);
  if (s.post_messages) post_detection_message(self, buf, *result);
  gst_advad_meta_set_result(buf, std::move(result));
  return GST_FLOW_OK;
}

static gboolean gst_advad_postproc_query(GstBaseTransform* trans, GstPadDirection dir, GstQuery* query) {
  auto* self = GST_ADVAD_POSTPROC(trans);
  if (dir == GST_PAD_SINK) advad_check_sink_query(GST_ELEMENT(self), query, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_postproc_parent_class)->query(trans, dir, query);
}

static gboolean gst_advad_postproc_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_POSTPROC(trans);
  advad_check_sink_event(GST_ELEMENT(self), event, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_postproc_parent_class)->sink_event(trans, event);
}

static void gst_advad_postproc_finalize(GObject* object) {
  delete GST_ADVAD_POSTPROC(object)->st;
  G_OBJECT_CLASS(gst_advad_postproc_parent_class)->finalize(object);
}

static void gst_advad_postproc_class_init(GstAdvadPostprocClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = gst_advad_postproc_set_property;
  gobject_class->get_property = gst_advad_postproc_get_property;
  gobject_class->finalize = gst_advad_postproc_finalize;

  advad_install_profile_property(gobject_class, PROP_PROFILE,
                                 "Category profile (.ini) or model package folder whose [threshold] and [postproc] "
                                 "groups to use; empty uses the profile advadinfer scored the frame with.",
                                 ADVAD_PARAM_READY);
  g_object_class_install_property(
      gobject_class, PROP_SPLIT,
      g_param_spec_string("split", "Split",
                          "Name of a per-split threshold / post-processing set the profile defines (a [threshold] "
                          "key or a [postproc.<split>] group, for example test_private_mixed); empty uses the "
                          "profile's defaults. Any other name is an error that lists the profile's splits.",
                          "", ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double("threshold", "Threshold",
                          "Anomaly score (in the model's score units, >= 0) at and above which a pixel is defective; "
                          "-1 (the default) uses the profile's threshold for the selected split. Other negative "
                          "values, NaN and infinity are an error.",
                          -INFINITY, INFINITY, -1.0, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_CLOSE_KERNEL,
      g_param_spec_string("close-kernel", "Closing kernel",
                          "Rectangular morphological closing kernel as N (N x N) or WxH pixels, sides 1..1000; 0 or "
                          "off turns closing off, empty (the default) uses the profile. Anything else is an error.",
                          "", ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_ERODE_KERNEL,
      g_param_spec_string("erode-kernel", "Erosion kernel",
                          "Rectangular erosion kernel as N (N x N) or WxH pixels, sides 1..1000; 0 or off turns "
                          "erosion off, empty (the default) uses the profile. Anything else is an error.",
                          "", ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_MIN_AREA,
      g_param_spec_int("min-area", "Minimum area",
                       "Defect regions smaller than this many pixels are dropped; 0 keeps all, -1 (the default) uses "
                       "the profile. Other negative values are an error.",
                       G_MININT, G_MAXINT, -1, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_FILL_HOLES,
      g_param_spec_enum("fill-holes", "Fill holes",
                        "Whether holes inside defect regions are filled after closing; profile (the default) uses "
                        "the profile's fill_holes.", GST_TYPE_ADVAD_SWITCH,
                        GST_ADVAD_SWITCH_PROFILE, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message named advad-detection on the bus for every frame, with frame, "
                           "timestamp, score, threshold, verdict, carried and the regions.",
                           TRUE, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_ATTACH_ROI,
      g_param_spec_boolean("attach-roi", "Attach ROI metas",
                           "Add a GstVideoRegionOfInterestMeta of type \"defect\" per region (with an advad-region "
                           "parameter structure) so standard elements can read the detections.",
                           TRUE, ADVAD_PARAM_PLAYING));

  gst_element_class_set_static_metadata(
      element_class, "advad post-processing", "Filter/Analyzer/Video",
      "Thresholds and cleans the anomaly map (morphology, minimum area), finds defect regions, attaches mask, regions, "
      "verdict and ROI metas, and posts one advad-detection bus message per frame",
      "advad project");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_advad_postproc_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_advad_postproc_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_advad_postproc_set_caps);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(gst_advad_postproc_before_transform);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_advad_postproc_transform_ip);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_advad_postproc_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_advad_postproc_sink_event);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api(GST_TYPE_ADVAD_SWITCH, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_advad_postproc_debug, "advadpostproc", 0, "advad post-processing");
}

static void gst_advad_postproc_init(GstAdvadPostproc* self) {
  self->st = new PostprocState();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
