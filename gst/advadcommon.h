// Plumbing shared by the advad elements: the caps they take, frame <-> cv::Mat
// wrapping, profile loading with GStreamer errors. No computation here.
#pragma once
#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "core/profile.h"
#include "core/tile_layout.h"

// Every element takes and gives these formats, any size, any frame rate.
#define ADVAD_VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, GRAY8 }"
#define ADVAD_VIDEO_CAPS GST_VIDEO_CAPS_MAKE(ADVAD_VIDEO_FORMATS)
#define ADVAD_FORMATS_TEXT "RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR or GRAY8"

// The core's name for a GStreamer video format; false when unsupported.
bool advad_pixel_format(GstVideoFormat format, advad::PixelFormat* out);

// A cv::Mat over the mapped frame's pixels (no copy; valid while mapped).
cv::Mat advad_frame_mat(GstVideoFrame* frame);

// The `profile` property every element but advadoverlay has: a string,
// nick "Profile", default "", with the element's own blurb and flags.
void advad_install_profile_property(GObjectClass* klass, guint id, const char* blurb, GParamFlags flags);

// The profile file a `profile` value names: <path>/profile.ini for a folder
// (a model package), else path. False when path is empty or that file does
// not exist, with the message and the hint an element posts for it.
bool advad_profile_file(const std::string& path, std::string* ini, std::string* error, std::string* hint);
// The hint posted with "Cannot use profile '<file>': <why>".
extern const char* const ADVAD_PROFILE_FIX_HINT;

// Loads `path`: a profile .ini, or a model package folder holding profile.ini.
// On failure posts a RESOURCE error naming the file and what to do, and
// returns null.
std::shared_ptr<const advad::Profile> advad_load_profile(GstElement* element, const std::string& path,
                                                         bool check_model_file);

// A string property's value; "" for NULL.
std::string advad_value_string(const GValue* value);

// When upstream offers only formats the element cannot take (a caps query
// with such a filter, or such a CAPS event), posts one warning that names
// them and suggests videoconvert. Negotiation still fails the usual way
// (not-negotiated). Call from the sink side's query and event handlers.
void advad_check_sink_query(GstElement* element, GstQuery* query, gboolean* warned);
void advad_check_sink_event(GstElement* element, GstEvent* event, gboolean* warned);

// Element property helpers.
constexpr GParamFlags ADVAD_PARAM_READY =
    static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
constexpr GParamFlags ADVAD_PARAM_PLAYING =
    static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

// For number properties whose values the element checks itself (see
// advad_reject_property): give them the type's whole range (doubles
// -inf..inf) and this flag, so that every value -- out of range, NaN --
// reaches set_property and becomes an element ERROR instead of a GLib warning
// that leaves the old value in place.
constexpr GParamFlags ADVAD_PARAM_PLAYING_CHECKED =
    static_cast<GParamFlags>(ADVAD_PARAM_PLAYING | G_PARAM_LAX_VALIDATION);

// Parses a kernel with core parse_kernel ("N", "WxH", "off"/"0"); empty = unset. False on a malformed value.
bool advad_parse_kernel(const std::string& text, int* w, int* h, bool* set);

// Strict property values. GLib checks types, enums and ranges; what it lets
// through but the element cannot use (a malformed string, a negative number
// other than a documented -1 sentinel, NaN) is recorded by set_property with
// advad_reject_property() -- the element keeps its previous value -- and
// reported by advad_check_properties() in start() (READY->PAUSED): a
// GST_ELEMENT_ERROR (RESOURCE, SETTINGS) naming the element, the property,
// the value and what is accepted, and start() fails. A bad value set while
// the element is PAUSED or PLAYING is posted as that error at once.
void advad_reject_property(GstElement* element, const char* property, const std::string& value,
                           const std::string& accepted);
// A valid value of `property` replaces an earlier rejected one.
void advad_accept_property(GstElement* element, const char* property);
// Posts the error for the first rejected value and returns false; true when none.
bool advad_check_properties(GstElement* element);
// "<factory> '<name>'", e.g. "advadpostproc 'advadpostproc0'", for messages.
std::string advad_element_label(GstElement* element);
// Shortest text of a double for messages ("-0.5", "nan").
std::string advad_double_text(double v);
// A double property with a -1 sentinel: exactly -1, or finite and within [lo, hi].
bool advad_sentinel_double_ok(double v, double lo, double hi);
