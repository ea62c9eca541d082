// advadtile: passthrough element that attaches the frame's tile layout
// (pyramid levels, grids, overlap — from the category profile) to every
// buffer in a GstAdvadMeta. Pixels are never touched or copied.
// It is optional: advadinfer computes the same layout itself when a frame
// arrives without one. Use it to fix the tiling before a tee, or to tile by a
// different profile than the one advadinfer scores with.
#include "gstadvadtile.h"

#include <gst/video/video.h>

#include "advadcommon.h"
#include "advadmeta.h"
#include "core/error.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_tile_debug);
#define GST_CAT_DEFAULT gst_advad_tile_debug

struct TileState {
  std::string profile_path;
  std::shared_ptr<const advad::Profile> profile;
  std::shared_ptr<const advad::TileLayout> layout;
  gboolean warned_caps = FALSE;
};

struct _GstAdvadTile {
  GstBaseTransform parent;
  TileState* st;
};

G_DEFINE_TYPE(GstAdvadTile, gst_advad_tile, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadtile, "advadtile", GST_RANK_NONE, GST_TYPE_ADVAD_TILE)

enum { PROP_0, PROP_PROFILE };

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

static void gst_advad_tile_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_TILE(object);
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_PROFILE: self->st->profile_path = g_value_get_string(value) ? g_value_get_string(value) : ""; break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_advad_tile_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_TILE(object);
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_PROFILE: g_value_set_string(value, self->st->profile_path.c_str()); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_advad_tile_start(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_TILE(trans);
  GST_OBJECT_LOCK(self);
  const std::string path = self->st->profile_path;
  GST_OBJECT_UNLOCK(self);
  self->st->profile = advad_load_profile(GST_ELEMENT(self), path, false);
  if (self->st->profile) GST_INFO_OBJECT(self, "tiling by profile %s", self->st->profile->path.c_str());
  return self->st->profile != nullptr;
}

static gboolean gst_advad_tile_stop(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_TILE(trans);
  self->st->profile.reset();
  self->st->layout.reset();
  return TRUE;
}

static gboolean gst_advad_tile_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  auto* self = GST_ADVAD_TILE(trans);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, incaps)) return FALSE;
  try {
    self->st->layout = std::make_shared<const advad::TileLayout>(
        advad::make_tile_layout(GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info), self->st->profile->tiling));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot tile %dx%d frames: %s", GST_VIDEO_INFO_WIDTH(&info),
                                             GST_VIDEO_INFO_HEIGHT(&info), e.what()),
                      ("Use a larger frame size or fewer tiles in the profile's [tiling] group."));
    return FALSE;
  }
  GST_DEBUG_OBJECT(self, "%dx%d frames -> %zu tiles", GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info),
                   self->st->layout->tiles.size());
  return TRUE;
}

static GstFlowReturn gst_advad_tile_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_TILE(trans);
  auto result = gst_advad_meta_copy_result(buf);
  result->profile = self->st->profile;
  result->layout = self->st->layout;
  gst_advad_meta_set_result(buf, std::move(result));
  return GST_FLOW_OK;
}

static gboolean gst_advad_tile_query(GstBaseTransform* trans, GstPadDirection dir, GstQuery* query) {
  auto* self = GST_ADVAD_TILE(trans);
  if (dir == GST_PAD_SINK) advad_check_sink_query(GST_ELEMENT(self), query, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_tile_parent_class)->query(trans, dir, query);
}

static gboolean gst_advad_tile_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_TILE(trans);
  advad_check_sink_event(GST_ELEMENT(self), event, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_tile_parent_class)->sink_event(trans, event);
}

static void gst_advad_tile_finalize(GObject* object) {
  delete GST_ADVAD_TILE(object)->st;
  G_OBJECT_CLASS(gst_advad_tile_parent_class)->finalize(object);
}

static void gst_advad_tile_class_init(GstAdvadTileClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = gst_advad_tile_set_property;
  gobject_class->get_property = gst_advad_tile_get_property;
  gobject_class->finalize = gst_advad_tile_finalize;

  g_object_class_install_property(
      gobject_class, PROP_PROFILE,
      g_param_spec_string("profile", "Profile",
                          "Path of the category profile (.ini) or model package folder whose [tiling] group gives "
                          "the pyramid levels, grids and overlap of the tile layout.",
                          "", ADVAD_PARAM_READY));

  gst_element_class_set_static_metadata(
      element_class, "advad tile layout", "Filter/Analyzer/Video",
      "Attaches the anomaly-detection tile layout (pyramid levels, grids, overlap from the category profile) to each "
      "frame; pixels pass through untouched",
      "advad project");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_advad_tile_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_advad_tile_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_advad_tile_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_advad_tile_transform_ip);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_advad_tile_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_advad_tile_sink_event);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT(gst_advad_tile_debug, "advadtile", 0, "advad tile layout");
}

static void gst_advad_tile_init(GstAdvadTile* self) {
  self->st = new TileState();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
