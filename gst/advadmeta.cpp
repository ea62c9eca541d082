#include "advadmeta.h"

#include <gst/video/video.h>

GType gst_advad_meta_api_get_type(void) {
  static GType type = 0;
  static const gchar* tags[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR, nullptr};
  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("GstAdvadMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

static gboolean advad_meta_init(GstMeta* meta, gpointer, GstBuffer*) {
  reinterpret_cast<GstAdvadMeta*>(meta)->result = new AdvadResultPtr();
  return TRUE;
}

static void advad_meta_free(GstMeta* meta, GstBuffer*) {
  auto* m = reinterpret_cast<GstAdvadMeta*>(meta);
  delete m->result;
  m->result = nullptr;
}

// Copies share the result. A scaler that changes the frame size drops the
// meta: the layout and map would no longer match the pixels.
static gboolean advad_meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer*, GQuark type, gpointer data) {
  auto* src = reinterpret_cast<GstAdvadMeta*>(meta);
  if (GST_META_TRANSFORM_IS_COPY(type)) {
    auto* copy = reinterpret_cast<GstMetaTransformCopy*>(data);
    if (copy->region) return FALSE;  // a part of the buffer: results are for whole frames
  } else if (GST_VIDEO_META_TRANSFORM_IS_SCALE(type)) {
    auto* scale = reinterpret_cast<GstVideoMetaTransform*>(data);
    if (GST_VIDEO_INFO_WIDTH(scale->in_info) != GST_VIDEO_INFO_WIDTH(scale->out_info) ||
        GST_VIDEO_INFO_HEIGHT(scale->in_info) != GST_VIDEO_INFO_HEIGHT(scale->out_info))
      return FALSE;
  } else {
    return FALSE;
  }
  gst_advad_meta_set_result(dest, *src->result);
  return TRUE;
}

const GstMetaInfo* gst_advad_meta_get_info(void) {
  static const GstMetaInfo* info = nullptr;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo* i = gst_meta_register(GST_ADVAD_META_API_TYPE, "GstAdvadMeta", sizeof(GstAdvadMeta),
                                             advad_meta_init, advad_meta_free, advad_meta_transform);
    g_once_init_leave(&info, i);
  }
  return info;
}

AdvadResultPtr gst_advad_meta_get_result(GstBuffer* buffer) {
  auto* m = reinterpret_cast<GstAdvadMeta*>(gst_buffer_get_meta(buffer, GST_ADVAD_META_API_TYPE));
  return m ? *m->result : AdvadResultPtr();
}

void gst_advad_meta_set_result(GstBuffer* buffer, AdvadResultPtr result) {
  auto* m = reinterpret_cast<GstAdvadMeta*>(gst_buffer_get_meta(buffer, GST_ADVAD_META_API_TYPE));
  if (!m) m = reinterpret_cast<GstAdvadMeta*>(gst_buffer_add_meta(buffer, GST_ADVAD_META_INFO, nullptr));
  *m->result = std::move(result);
}

std::shared_ptr<AdvadFrameResult> gst_advad_meta_copy_result(GstBuffer* buffer) {
  AdvadResultPtr old = gst_advad_meta_get_result(buffer);
  return old ? std::make_shared<AdvadFrameResult>(*old) : std::make_shared<AdvadFrameResult>();
}
