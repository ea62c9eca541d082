// advadtile: passthrough element that attaches the frame's tile layout
// (pyramid levels, grids, overlap — from the category profile) to every
// buffer in a GstAdvadMeta. Pixels are never touched or copied.
//
// Without its own `profile` it follows the advadinfer downstream: when caps
// arrive it asks it (custom query "advad-layout") which profile it scores
// with, and when advadinfer swaps to another model it tells advadtile
// (custom upstream event "advad-layout-changed"), which tiles every frame
// from then on for the new model. With its own `profile`, that profile must
// tile exactly as the advadinfer downstream does, or negotiation fails with
// an error naming both elements, both files and the differing keys.
#include "gstadvadtile.h"

#include <gst/video/video.h>

#include <mutex>

#include "advadcommon.h"
#include "advadmeta.h"
#include "core/error.h"
#include "engine/layout_match.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_tile_debug);
#define GST_CAT_DEFAULT gst_advad_tile_debug

struct TileState {
  std::string profile_path;  // the property; guarded by the object lock
  // What the frames are tiled by; guarded by `mutex` (advadinfer's swap
  // event arrives on another thread).
  std::mutex mutex;
  std::shared_ptr<const advad::Profile> profile;
  std::shared_ptr<const advad::TileLayout> layout;
  bool following = false;  // no own profile: the profile comes from advadinfer
  int width = 0, height = 0;
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
    case PROP_PROFILE: self->st->profile_path = advad_value_string(value); break;
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
  TileState* st = self->st;
  GST_OBJECT_LOCK(self);
  const std::string path = st->profile_path;
  GST_OBJECT_UNLOCK(self);
  std::lock_guard<std::mutex> lock(st->mutex);
  st->layout.reset();
  st->following = path.empty();
  st->profile.reset();
  if (st->following) return TRUE;  // the profile comes from advadinfer when caps arrive
  st->profile = advad_load_profile(GST_ELEMENT(self), path, false);
  if (st->profile) GST_INFO_OBJECT(self, "tiling by profile %s", st->profile->path.c_str());
  return st->profile != nullptr;
}

static gboolean gst_advad_tile_stop(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_TILE(trans);
  std::lock_guard<std::mutex> lock(self->st->mutex);
  self->st->profile.reset();
  self->st->layout.reset();
  return TRUE;
}

// Which profile does the advadinfer downstream score with? Empty when none
// answers; *element gets its name.
static std::string downstream_profile(GstAdvadTile* self, std::string* element) {
  GstQuery* q = gst_query_new_custom(GST_QUERY_CUSTOM, gst_structure_new_empty("advad-layout"));
  std::string path;
  if (gst_pad_peer_query(GST_BASE_TRANSFORM_SRC_PAD(self), q)) {
    const GstStructure* s = gst_query_get_structure(q);
    if (const gchar* p = gst_structure_get_string(s, "profile")) path = p;
    if (const gchar* e = gst_structure_get_string(s, "element")) *element = e;
  }
  gst_query_unref(q);
  return path;
}

// Agrees the profile with the advadinfer downstream (see the top of the file).
static bool agree_profile(GstAdvadTile* self) {
  TileState* st = self->st;
  std::string infer_name;
  const std::string infer_path = downstream_profile(self, &infer_name);
  std::shared_ptr<const advad::Profile> own;
  {
    std::lock_guard<std::mutex> lock(st->mutex);
    own = st->following ? nullptr : st->profile;
  }
  if (!own) {
    if (infer_path.empty()) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s has no profile and no advadinfer downstream to follow.",
                                                    GST_ELEMENT_NAME(self)),
                        ("Set advadtile's 'profile' property, or put an advadinfer with a profile after it."));
      return false;
    }
    auto followed = advad_load_profile(GST_ELEMENT(self), infer_path, false);
    if (!followed) return false;
    std::lock_guard<std::mutex> lock(st->mutex);
    st->profile = followed;
    GST_INFO_OBJECT(self, "tiling as %s scores: profile %s", infer_name.c_str(), followed->path.c_str());
    return true;
  }
  if (infer_path.empty()) return true;  // nothing downstream to agree with
  std::shared_ptr<const advad::Profile> theirs;
  try {
    theirs = std::make_shared<const advad::Profile>(advad::load_profile(infer_path, false));
  } catch (const std::exception&) {
    return true;  // advadinfer loaded it; if it cannot be read now, advadinfer will say so
  }
  const std::vector<std::string> diff = advad::layout_differences(*own, *theirs);
  if (diff.empty()) return true;
  std::string keys;
  for (const auto& d : diff) keys += (keys.empty() ? "" : "; ") + d;
  GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                    ("%s (profile %s) and %s (profile %s) tile frames differently: %s.", GST_ELEMENT_NAME(self),
                     own->path.c_str(), infer_name.c_str(), theirs->path.c_str(), keys.c_str()),
                    ("Frames tiled for one model cannot be scored by another. Remove advadtile's 'profile' so it "
                     "follows %s, or give both elements the same profile.",
                     infer_name.c_str()));
  return false;
}

static bool make_layout(GstAdvadTile* self, int w, int h) {
  TileState* st = self->st;
  std::lock_guard<std::mutex> lock(st->mutex);
  try {
    st->layout = std::make_shared<const advad::TileLayout>(advad::make_tile_layout(w, h, st->profile->tiling));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot tile %dx%d frames: %s", w, h, e.what()),
                      ("Use a larger frame size or fewer tiles in the [tiling] group of %s.",
                       st->profile->path.c_str()));
    return false;
  }
  st->width = w;
  st->height = h;
  GST_DEBUG_OBJECT(self, "%dx%d frames -> %zu tiles", w, h, st->layout->tiles.size());
  return true;
}

static gboolean gst_advad_tile_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  auto* self = GST_ADVAD_TILE(trans);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, incaps)) return FALSE;
  return agree_profile(self) && make_layout(self, GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info));
}

static GstFlowReturn gst_advad_tile_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_TILE(trans);
  auto result = gst_advad_meta_copy_result(buf);
  {
    std::lock_guard<std::mutex> lock(self->st->mutex);
    result->profile = self->st->profile;
    result->layout = self->st->layout;
  }
  gst_advad_meta_set_result(buf, std::move(result));
  return GST_FLOW_OK;
}

// advadinfer swapped to a model with another profile: tile for it from the
// next frame on. Only when following; a fixed profile lets the event pass
// (advadinfer then marks mismatching frames unscored).
static gboolean gst_advad_tile_src_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_TILE(trans);
  TileState* st = self->st;
  const GstStructure* s = gst_event_get_structure(event);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM && s && gst_structure_has_name(s, "advad-layout-changed")) {
    bool following;
    {
      std::lock_guard<std::mutex> lock(st->mutex);
      following = st->following;
    }
    if (following) {
      const gchar* path = gst_structure_get_string(s, "profile");
      std::shared_ptr<const advad::Profile> next;
      try {
        next = std::make_shared<const advad::Profile>(advad::load_profile(path ? path : "", false));
      } catch (const std::exception& e) {
        GST_ELEMENT_WARNING(self, RESOURCE, FAILED, ("Cannot follow the model change: %s", e.what()), (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
      std::lock_guard<std::mutex> lock(st->mutex);
      try {
        auto layout = st->width > 0 ? std::make_shared<const advad::TileLayout>(
                                          advad::make_tile_layout(st->width, st->height, next->tiling))
                                    : nullptr;
        st->layout = layout;
      } catch (const std::exception& e) {
        GST_ELEMENT_WARNING(self, STREAM, FORMAT, ("Cannot tile %dx%d frames for profile %s: %s", st->width,
                                                   st->height, next->path.c_str(), e.what()),
                            (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
      st->profile = next;
      GST_INFO_OBJECT(self, "now tiling by profile %s", next->path.c_str());
      gst_event_unref(event);
      return TRUE;
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gst_advad_tile_parent_class)->src_event(trans, event);
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

  advad_install_profile_property(
      gobject_class, PROP_PROFILE,
      "Path of the category profile (.ini) or model package folder whose [tiling] group gives the pyramid levels, "
      "grids and overlap of the tile layout. Empty (the default): tile as the advadinfer downstream scores, following "
      "its model swaps. When set, it must tile as that advadinfer's profile does, or negotiation fails naming both.",
      ADVAD_PARAM_READY);

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
  trans_class->src_event = GST_DEBUG_FUNCPTR(gst_advad_tile_src_event);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT(gst_advad_tile_debug, "advadtile", 0, "advad tile layout");
}

static void gst_advad_tile_init(GstAdvadTile* self) {
  self->st = new TileState();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
