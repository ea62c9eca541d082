#include "advadcommon.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <tuple>
#include <utility>

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

void advad_install_profile_property(GObjectClass* klass, guint id, const char* blurb, GParamFlags flags) {
  g_object_class_install_property(klass, id, g_param_spec_string("profile", "Profile", blurb, "", flags));
}

const char* const ADVAD_PROFILE_FIX_HINT = "Fix the profile file named above (see the README's 'Profile format').";

bool advad_profile_file(const std::string& path, std::string* ini, std::string* error, std::string* hint) {
  if (path.empty()) {
    *error = "No profile set.";
    *hint = "Set the 'profile' property to a category profile (.ini) or a model package folder.";
    return false;
  }
  *ini = path;
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR)) {
    gchar* p = g_build_filename(path.c_str(), "profile.ini", nullptr);
    *ini = p;
    g_free(p);
  }
  if (!g_file_test(ini->c_str(), G_FILE_TEST_IS_REGULAR)) {
    *error = "Profile file '" + *ini + "' does not exist.";
    *hint = "Check the 'profile' property: it must name a readable .ini file or a model package folder holding "
            "profile.ini.";
    return false;
  }
  return true;
}

std::shared_ptr<const advad::Profile> advad_load_profile(GstElement* element, const std::string& path,
                                                         bool check_model_file) {
  std::string ini, error, hint;
  if (!advad_profile_file(path, &ini, &error, &hint)) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND, ("%s", error.c_str()), ("%s", hint.c_str()));
    return nullptr;
  }
  try {
    return std::make_shared<const advad::Profile>(advad::load_profile(ini, check_model_file));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("Cannot use profile '%s': %s", ini.c_str(), e.what()),
                      ("%s", ADVAD_PROFILE_FIX_HINT));
    return nullptr;
  }
}

std::string advad_value_string(const GValue* value) {
  const gchar* s = g_value_get_string(value);
  return s ? s : "";
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

namespace {

// Rejected values of one element: property -> (value text, accepted text).
using RejectedValues = std::map<std::string, std::pair<std::string, std::string>>;

GQuark rejected_quark() {
  static GQuark q = g_quark_from_static_string("advad-rejected-property-values");
  return q;
}

void post_rejected(GstElement* element, const std::string& property, const std::string& value,
                   const std::string& accepted) {
  const std::string label = advad_element_label(element);
  GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS,
                    ("%s: property %s = '%s' is not accepted; accepted: %s", label.c_str(), property.c_str(),
                     value.c_str(), accepted.c_str()),
                    ("Fix the '%s' property of %s.", property.c_str(), label.c_str()));
}

}  // namespace

std::string advad_element_label(GstElement* element) {
  GstElementFactory* f = gst_element_get_factory(element);
  const char* factory = f ? GST_OBJECT_NAME(f) : G_OBJECT_TYPE_NAME(element);
  gchar* name = gst_object_get_name(GST_OBJECT(element));
  std::string out = std::string(factory) + " '" + (name ? name : "") + "'";
  g_free(name);
  return out;
}

std::string advad_double_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

bool advad_sentinel_double_ok(double v, double lo, double hi) {
  return v == -1.0 || (std::isfinite(v) && v >= lo && v <= hi);
}

void advad_reject_property(GstElement* element, const char* property, const std::string& value,
                           const std::string& accepted) {
  GST_OBJECT_LOCK(element);
  auto* rejected = static_cast<RejectedValues*>(g_object_get_qdata(G_OBJECT(element), rejected_quark()));
  if (!rejected) {
    rejected = new RejectedValues();
    g_object_set_qdata_full(G_OBJECT(element), rejected_quark(), rejected,
                            [](gpointer p) { delete static_cast<RejectedValues*>(p); });
  }
  (*rejected)[property] = {value, accepted};
  const bool running = GST_STATE(element) >= GST_STATE_PAUSED;
  GST_OBJECT_UNLOCK(element);
  GST_WARNING_OBJECT(element, "%s = '%s' rejected; accepted: %s", property, value.c_str(), accepted.c_str());
  if (running) post_rejected(element, property, value, accepted);
}

void advad_accept_property(GstElement* element, const char* property) {
  GST_OBJECT_LOCK(element);
  if (auto* rejected = static_cast<RejectedValues*>(g_object_get_qdata(G_OBJECT(element), rejected_quark())))
    rejected->erase(property);
  GST_OBJECT_UNLOCK(element);
}

bool advad_check_properties(GstElement* element) {
  GST_OBJECT_LOCK(element);
  const auto* rejected = static_cast<RejectedValues*>(g_object_get_qdata(G_OBJECT(element), rejected_quark()));
  const RejectedValues copy = rejected ? *rejected : RejectedValues();
  GST_OBJECT_UNLOCK(element);
  if (copy.empty()) return true;
  if (copy.size() == 1) {
    const auto& [property, bad] = *copy.begin();
    post_rejected(element, property, bad.first, bad.second);
    return false;
  }
  std::string text = advad_element_label(element) + ": " + std::to_string(copy.size()) + " property values are not accepted:";
  for (const auto& [property, bad] : copy)
    text += " " + property + " = '" + bad.first + "' (accepted: " + bad.second + ");";
  text.pop_back();
  GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("%s", text.c_str()), ("Fix the properties named above."));
  return false;
}
