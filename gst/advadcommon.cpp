#include "advadcommon.h"

#include <cstdio>
#include <tuple>

#include "core/error.h"
#include "core/profile.h"

bool advad_pixel_format(GstVideoFormat format, advad::PixelFormat* out) {
  using advad::PixelFormat;
  switch (format) {
    case GST_VIDEO_FORMAT_RGB: *out = PixelFormat::RGB; return true;
    case GST_VIDEO_FORMAT_BGR: *out = PixelFormat::BGR; return true;
    case GST_VIDEO_FORMAT_RGBx: *out = PixelFormat::RGBx; return true;
    case GST_VIDEO_FORMAT_BGRx: *out = PixelFormat::BGRx; return true;
    case GST_VIDEO_FORMAT_xRGB: *out = PixelFormat::xRGB; return true;
    case GST_VIDEO_FORMAT_xBGR: *out = PixelFormat::xBGR; return true;
    case GST_VIDEO_FORMAT_RGBA: *out = PixelFormat::RGBA; return true;
    case GST_VIDEO_FORMAT_BGRA: *out = PixelFormat::BGRA; return true;
    case GST_VIDEO_FORMAT_ARGB: *out = PixelFormat::ARGB; return true;
    case GST_VIDEO_FORMAT_ABGR: *out = PixelFormat::ABGR; return true;
    case GST_VIDEO_FORMAT_GRAY8: *out = PixelFormat::GRAY8; return true;
    default: return false;
  }
}

cv::Mat advad_frame_mat(GstVideoFrame* frame) {
  const int channels = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, 0);
  return cv::Mat(GST_VIDEO_FRAME_HEIGHT(frame), GST_VIDEO_FRAME_WIDTH(frame), CV_8UC(channels),
                 GST_VIDEO_FRAME_PLANE_DATA(frame, 0), static_cast<size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0)));
}

std::shared_ptr<const advad::Profile> advad_load_profile(GstElement* element, const std::string& path,
                                                         bool check_model_file) {
  if (path.empty()) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("No profile set."),
                      ("Set the 'profile' property to a category profile (.ini) or a model package folder."));
    return nullptr;
  }
  std::string ini = path;
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR)) {
    gchar* p = g_build_filename(path.c_str(), "profile.ini", nullptr);
    ini = p;
    g_free(p);
  }
  if (!g_file_test(ini.c_str(), G_FILE_TEST_IS_REGULAR)) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("Profile file '%s' does not exist.", ini.c_str()),
                      ("Check the 'profile' property: it must name a readable .ini file or a model package folder "
                       "holding profile.ini."));
    return nullptr;
  }
  try {
    return std::make_shared<const advad::Profile>(advad::load_profile(ini, check_model_file));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Cannot use profile '%s': %s", ini.c_str(), e.what()),
                      ("Fix the profile file named above (see the README's 'Profile format')."));
    return nullptr;
  }
}

static void warn_unsupported_caps(GstElement* element, GstCaps* offered, gboolean* warned) {
  if (*warned || !offered || gst_caps_is_any(offered) || gst_caps_is_empty(offered)) return;
  static GstStaticCaps supported_caps = GST_STATIC_CAPS(ADVAD_VIDEO_CAPS);
  GstCaps* supported = gst_static_caps_get(&supported_caps);
  const bool ok = gst_caps_can_intersect(offered, supported);
  gst_caps_unref(supported);
  if (ok) return;
  gchar* text = gst_caps_to_string(offered);
  GST_ELEMENT_WARNING(element, CORE, NEGOTIATION,
                      ("%s cannot take these frames; it needs raw video in " ADVAD_FORMATS_TEXT
                       ". Put videoconvert in front of it.",
                       GST_ELEMENT_NAME(element)),
                      ("offered caps: %s", text));
  g_free(text);
  *warned = TRUE;
}

void advad_check_sink_query(GstElement* element, GstQuery* query, gboolean* warned) {
  GstCaps* caps = nullptr;
  if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS)
    gst_query_parse_caps(query, &caps);  // the filter: what upstream can give
  else if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS)
    gst_query_parse_accept_caps(query, &caps);  // checked before a CAPS event is taken
  warn_unsupported_caps(element, caps, warned);
}

void advad_check_sink_event(GstElement* element, GstEvent* event, gboolean* warned) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  warn_unsupported_caps(element, caps, warned);
}

bool advad_parse_kernel(const std::string& text, int* w, int* h, bool* set) {
  *set = false;
  if (text.empty()) return true;  // empty: the profile's value
  try {
    std::tie(*w, *h) = advad::parse_kernel(text);  // the profile's own rule, so both accept the same forms
  } catch (const advad::ProfileError&) {
    return false;
  }
  *set = true;
  return true;
}
