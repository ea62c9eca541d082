#include "gst_test_util.h"

#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <torch/script.h>
#include <unistd.h>

namespace advad::gsttest {

void init_gstreamer() {
  static bool done = false;
  if (done) return;
  gst_init(nullptr, nullptr);
  GstPlugin* plugin = gst_registry_find_plugin(gst_registry_get(), "advad");
  ASSERT_NE(plugin, nullptr) << "the advad plugin is not in the registry; GST_PLUGIN_PATH_1_0="
                             << (g_getenv("GST_PLUGIN_PATH_1_0") ? g_getenv("GST_PLUGIN_PATH_1_0") : "(unset)");
  const char* want = g_getenv("GST_PLUGIN_PATH_1_0");
  if (want) {
    EXPECT_EQ(std::string(gst_plugin_get_filename(plugin)).rfind(want, 0), 0u) << gst_plugin_get_filename(plugin);
  }
  gst_object_unref(plugin);
  done = true;
}

static TempDir& package_dir() {
  static TempDir dir("gst");
  return dir;
}

const std::string& demo_profile_path() {
  static const std::string path = write_demo_package(package_dir().file("demo"));
  return path;
}

const std::string& demo_package_dir() {
  demo_profile_path();  // writes the package
  static const std::string dir = package_dir().file("demo");
  return dir;
}

const std::vector<std::string>& all_formats() {
  static const std::vector<std::string> f{"RGB",  "BGR",  "RGBx", "BGRx", "xRGB", "xBGR",
                                          "RGBA", "BGRA", "ARGB", "ABGR", "GRAY8"};
  return f;
}

// Channel layout of `format` as indices into (R, G, B, A=255).
static std::vector<int> channel_order(const std::string& f) {
  if (f == "RGB") return {0, 1, 2};
  if (f == "BGR") return {2, 1, 0};
  if (f == "RGBx" || f == "RGBA") return {0, 1, 2, 3};
  if (f == "BGRx" || f == "BGRA") return {2, 1, 0, 3};
  if (f == "xRGB" || f == "ARGB") return {3, 0, 1, 2};
  if (f == "xBGR" || f == "ABGR") return {3, 2, 1, 0};
  return {};
}

GstBuffer* frame_buffer(const cv::Mat& rgb, const std::string& format, GstClockTime pts, GstClockTime duration) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format.c_str()), static_cast<guint>(rgb.cols),
                            static_cast<guint>(rgb.rows));
  cv::Mat converted;
  if (format == "GRAY8") {
    cv::cvtColor(rgb, converted, cv::COLOR_RGB2GRAY);
  } else {
    std::vector<cv::Mat> planes;
    cv::split(rgb, planes);
    planes.push_back(cv::Mat(rgb.size(), CV_8U, cv::Scalar(255)));
    std::vector<cv::Mat> ordered;
    for (int i : channel_order(format)) ordered.push_back(planes[static_cast<size_t>(i)]);
    cv::merge(ordered, converted);
  }
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  const size_t row = static_cast<size_t>(converted.cols) * converted.elemSize();
  for (int y = 0; y < converted.rows; ++y)
    std::memcpy(map.data + static_cast<size_t>(y) * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0), converted.ptr(y), row);
  gst_buffer_unmap(buf, &map);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = duration;
  return buf;
}

std::string video_caps(const std::string& format, int w, int h, int fps) {
  return "video/x-raw,format=" + format + ",width=" + std::to_string(w) + ",height=" + std::to_string(h) +
         ",framerate=" + std::to_string(fps) + "/1";
}

std::vector<guint8> buffer_bytes(GstBuffer* buf) {
  std::vector<guint8> bytes(gst_buffer_get_size(buf));
  gst_buffer_extract(buf, 0, bytes.data(), bytes.size());
  return bytes;
}

BusRun::~BusRun() {
  if (error) gst_message_unref(error);
  for (auto* s : element_messages) gst_structure_free(s);
  for (auto* s : all_element_messages) gst_structure_free(s);
}

std::string BusRun::error_text() const {
  if (!error) return "";
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(error, &err, &debug);
  std::string text = std::string(err->message) + " | " + (debug ? debug : "");
  g_error_free(err);
  g_free(debug);
  return text;
}

void run_pipeline(GstElement* pipeline, BusRun* run, const char* element_message, double timeout_s,
                  const std::function<void(GstMessage*)>& on_message) {
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout_s * G_USEC_PER_SEC);
  for (;;) {
    const gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0) {
      run->timed_out = true;
      break;
    }
    GstMessage* msg = gst_bus_timed_pop(bus, static_cast<GstClockTime>(left) * GST_USECOND);
    if (!msg) continue;
    if (on_message) on_message(msg);
    const GstMessageType type = GST_MESSAGE_TYPE(msg);
    if (type == GST_MESSAGE_ERROR) {
      run->error = msg;
      break;
    }
    if (type == GST_MESSAGE_EOS) {
      run->eos = true;
      gst_message_unref(msg);
      break;
    }
    if (type == GST_MESSAGE_WARNING) {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_warning(msg, &err, &debug);
      run->warnings.push_back(std::string(err->message) + " | " + (debug ? debug : ""));
      run->warning_sources.push_back(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)));
      g_error_free(err);
      g_free(debug);
    } else if (type == GST_MESSAGE_ELEMENT) {
      const GstStructure* s = gst_message_get_structure(msg);
      if (s) run->all_element_messages.push_back(gst_structure_copy(s));
      if (s && element_message && gst_structure_has_name(s, element_message))
        run->element_messages.push_back(gst_structure_copy(s));
    }
    gst_message_unref(msg);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
}

std::vector<const GstStructure*> messages_named(const BusRun& run, const char* name) {
  std::vector<const GstStructure*> out;
  for (const GstStructure* s : run.all_element_messages)
    if (gst_structure_has_name(s, name)) out.push_back(s);
  return out;
}

std::string write_faulty_package(const std::string& dir, const FaultyOptions& o) {
  std::filesystem::create_directories(dir);
  const std::string model = (std::filesystem::absolute(dir) / "model.pt").string();
  torch::jit::Module m("AdvadFaultyScorer");
  const InputSpec in;
  m.register_buffer("mean", torch::tensor({in.mean[0], in.mean[1], in.mean[2]}).view({1, 3, 1, 1}));
  m.register_buffer("std", torch::tensor({in.std[0], in.std[1], in.std[2]}).view({1, 3, 1, 1}));
  m.register_attribute("work", c10::IntType::get(), static_cast<int64_t>(o.work));
  if (o.ballast_mb > 0)
    m.register_buffer("ballast", torch::rand({static_cast<int64_t>(o.ballast_mb) * 1024 * 1024 / 4}));
  std::string fault = "m";
  if (o.fault == "nan") fault = "m * float('nan')";
  else if (o.fault == "inf") fault = "m + float('inf')";
  else if (o.fault == "shape") fault = "torch.cat([m, m], 1)";
  else if (o.fault == "constant") fault = "torch.zeros_like(m)";
  m.define(R"(
def forward(self, x):
    rgb = x * self.std + self.mean
    g = rgb.mean(1, True)
    m = torch.abs(g - 0.5)
    for _ in range(self.work):
        m = torch.tanh(m) * 0.5 + m * 0.5
    if bool(rgb.mean() > 0.9):
        return )" + fault + R"(
    return m
)");
  m.save(model);
  DemoOptions d;
  d.levels = o.levels;
  d.threshold = o.threshold;
  Profile p = demo_profile(model, d);
  p.category = "faulty-" + o.fault;
  const std::string ini = (std::filesystem::absolute(dir) / "profile.ini").string();
  save_profile(p, ini);
  return ini;
}

cv::Mat flat_frame(int w, int h, int level) { return cv::Mat(h, w, CV_8UC3, cv::Scalar::all(level)); }

GstElement* launch(const std::string& description) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(description.c_str(), &err);
  if (err) {
    ADD_FAILURE() << description << ": " << err->message;
    g_error_free(err);
  }
  return p;
}

void attach_sink(GstElement* pipeline, Collected* c) {
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstAppSinkCallbacks cb{};
  cb.new_sample = &Collected::on_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, c, nullptr);
  gst_object_unref(sink);
}

std::vector<nlohmann::json> read_json_lines(const std::string& file) {
  std::vector<nlohmann::json> lines;
  std::ifstream f(file);
  for (std::string line; std::getline(f, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

size_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace advad::gsttest
