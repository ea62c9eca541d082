// advaddetect: the whole chain in one element, set by one profile —
// advadtile ! advadinfer ! advadpostproc ! advadoverlay in a bin with ghost
// pads. The profile (or model) goes to advadinfer only: advadtile follows
// it, advadpostproc and advadoverlay use the profile each frame was scored
// with, so a hot swap through `profile` re-tiles and re-thresholds too.
// Properties are the children's own (same names, ranges, defaults and
// descriptions), forwarded; `overlay=false` leaves pixels alone and only
// writes metadata (json-location). The four elements remain for custom chains.
#include "gstadvaddetect.h"

#include "advadcommon.h"
#include "gstadvadinfer.h"
#include "gstadvadoverlay.h"
#include "gstadvadpostproc.h"
#include "gstadvadtile.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_detect_debug);
#define GST_CAT_DEFAULT gst_advad_detect_debug

struct _GstAdvadDetect {
  GstBin parent;
  GstElement *tile, *infer, *postproc, *overlay;
};

G_DEFINE_TYPE(GstAdvadDetect, gst_advad_detect, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(advaddetect, "advaddetect", GST_RANK_NONE, GST_TYPE_ADVAD_DETECT)

namespace {

enum Child { INFER, POSTPROC, OVERLAY };

// Bin property -> the child property it stands for.
struct Forward {
  const char* name;
  Child child;
};
constexpr Forward kForwards[] = {
    {"profile", INFER},        {"model", INFER},          {"device", INFER},          {"precision", INFER},
    {"cuda-memory-limit", INFER},
    {"threads", INFER},        {"batch-size", INFER},     {"inference-interval", INFER},
    {"max-unscored", INFER},   {"stats-interval", INFER}, {"late-frames", INFER},     {"stats", INFER},
    {"model-id", INFER},       {"split", POSTPROC},       {"threshold", POSTPROC},    {"json-location", OVERLAY},
    {"source", OVERLAY},
};
constexpr guint kNumForwards = sizeof(kForwards) / sizeof(kForwards[0]);
enum { PROP_0, PROP_OVERLAY = kNumForwards + 1 };

// A pspec like `src` (type, range, default, texts, flags) under the same name.
GParamSpec* copy_pspec(GParamSpec* src) {
  const char* name = g_param_spec_get_name(src);
  const char* nick = g_param_spec_get_nick(src);
  const char* blurb = g_param_spec_get_blurb(src);
  const auto flags = static_cast<GParamFlags>(src->flags | G_PARAM_STATIC_STRINGS);
  if (G_IS_PARAM_SPEC_STRING(src))
    return g_param_spec_string(name, nick, blurb, G_PARAM_SPEC_STRING(src)->default_value, flags);
  if (G_IS_PARAM_SPEC_UINT(src)) {
    auto* u = G_PARAM_SPEC_UINT(src);
    return g_param_spec_uint(name, nick, blurb, u->minimum, u->maximum, u->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_INT(src)) {
    auto* i = G_PARAM_SPEC_INT(src);
    return g_param_spec_int(name, nick, blurb, i->minimum, i->maximum, i->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_DOUBLE(src)) {
    auto* d = G_PARAM_SPEC_DOUBLE(src);
    return g_param_spec_double(name, nick, blurb, d->minimum, d->maximum, d->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_BOOLEAN(src))
    return g_param_spec_boolean(name, nick, blurb, G_PARAM_SPEC_BOOLEAN(src)->default_value, flags);
  if (G_IS_PARAM_SPEC_ENUM(src))
    return g_param_spec_enum(name, nick, blurb, src->value_type, G_PARAM_SPEC_ENUM(src)->default_value, flags);
  if (G_IS_PARAM_SPEC_BOXED(src)) return g_param_spec_boxed(name, nick, blurb, src->value_type, flags);
  g_error("advaddetect: no copy for property %s of type %s", name, G_PARAM_SPEC_TYPE_NAME(src));
  return nullptr;
}

GType child_type(Child c) {
  switch (c) {
    case INFER: return GST_TYPE_ADVAD_INFER;
    case POSTPROC: return GST_TYPE_ADVAD_POSTPROC;
    default: return GST_TYPE_ADVAD_OVERLAY;
  }
}

}  // namespace

static GstElement* child_of(GstAdvadDetect* self, Child c) {
  return c == INFER ? self->infer : c == POSTPROC ? self->postproc : self->overlay;
}

static void gst_advad_detect_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_DETECT(object);
  if (id == PROP_OVERLAY) {
    g_object_set(self->overlay, "metadata-only", !g_value_get_boolean(value), nullptr);
    return;
  }
  if (id < 1 || id > kNumForwards) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    return;
  }
  const Forward& f = kForwards[id - 1];
  g_object_set_property(G_OBJECT(child_of(self, f.child)), f.name, value);
}

static void gst_advad_detect_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_DETECT(object);
  if (id == PROP_OVERLAY) {
    gboolean metadata_only = FALSE;
    g_object_get(self->overlay, "metadata-only", &metadata_only, nullptr);
    g_value_set_boolean(value, !metadata_only);
    return;
  }
  if (id < 1 || id > kNumForwards) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    return;
  }
  const Forward& f = kForwards[id - 1];
  g_object_get_property(G_OBJECT(child_of(self, f.child)), f.name, value);
}

static void gst_advad_detect_class_init(GstAdvadDetectClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_advad_detect_set_property;
  gobject_class->get_property = gst_advad_detect_get_property;

  for (guint i = 0; i < kNumForwards; ++i) {
    auto* child_class = static_cast<GObjectClass*>(g_type_class_ref(child_type(kForwards[i].child)));
    GParamSpec* src = g_object_class_find_property(child_class, kForwards[i].name);
    g_assert(src != nullptr);
    g_object_class_install_property(gobject_class, i + 1, copy_pspec(src));
    g_type_class_unref(child_class);
  }
  g_object_class_install_property(
      gobject_class, PROP_OVERLAY,
      g_param_spec_boolean("overlay", "Overlay",
                           "Draw the heatmap, contours, boxes and label onto the video; false passes pixels through "
                           "untouched and only writes metadata (json-location, bus messages, metas).",
                           TRUE, static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                          GST_PARAM_MUTABLE_PLAYING)));

  static GstStaticPadTemplate sink_template =
      GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
  static GstStaticPadTemplate src_template =
      GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "advad anomaly detection", "Filter/Analyzer/Video",
      "The whole advad chain set by one profile: tiles each frame as the model needs, scores it, thresholds and "
      "cleans the map, and overlays or only reports the result (advadtile ! advadinfer ! advadpostproc ! "
      "advadoverlay). Works as playbin's video-filter.",
      "advad project");
  GST_DEBUG_CATEGORY_INIT(gst_advad_detect_debug, "advaddetect", 0, "advad detection bin");
}

static void gst_advad_detect_init(GstAdvadDetect* self) {
  self->tile = GST_ELEMENT(g_object_new(GST_TYPE_ADVAD_TILE, "name", "tile", nullptr));
  self->infer = GST_ELEMENT(g_object_new(GST_TYPE_ADVAD_INFER, "name", "infer", nullptr));
  self->postproc = GST_ELEMENT(g_object_new(GST_TYPE_ADVAD_POSTPROC, "name", "postproc", nullptr));
  self->overlay = GST_ELEMENT(g_object_new(GST_TYPE_ADVAD_OVERLAY, "name", "overlay", nullptr));
  gst_bin_add_many(GST_BIN(self), self->tile, self->infer, self->postproc, self->overlay, nullptr);
  gst_element_link_many(self->tile, self->infer, self->postproc, self->overlay, nullptr);
  GstPad* sink = gst_element_get_static_pad(self->tile, "sink");
  GstPad* src = gst_element_get_static_pad(self->overlay, "src");
  GstPadTemplate* sink_tmpl = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "sink");
  GstPadTemplate* src_tmpl = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "src");
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template("sink", sink, sink_tmpl));
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template("src", src, src_tmpl));
  gst_object_unref(sink);
  gst_object_unref(src);
}
