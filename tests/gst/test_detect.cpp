// advaddetect: one element, one profile. In a plain pipeline, as playbin's
// video-filter on a file the test makes, metadata-only (overlay=false) with
// pixels untouched, the children's properties forwarded, and a hot swap
// through its profile to a model that tiles differently.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gst/advadmeta.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

constexpr int W = 160, H = 120;

class GstDetect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
  TempDir dir;

};

TEST_F(GstDetect, ForwardsTheChildrensPropertiesWithTheirDescriptions) {
  GstElement* d = gst_element_factory_make("advaddetect", "d");
  ASSERT_NE(d, nullptr);
  g_object_set(d, "profile", P.c_str(), "inference-interval", 3u, "json-location", dir.file("x.jsonl").c_str(),
               "overlay", FALSE, nullptr);
  gchar* profile = nullptr;
  guint interval = 0;
  gboolean overlay = TRUE;
  g_object_get(d, "profile", &profile, "inference-interval", &interval, "overlay", &overlay, nullptr);
  EXPECT_STREQ(profile, P.c_str());
  EXPECT_EQ(interval, 3u);
  EXPECT_FALSE(overlay);
  g_free(profile);
  GstElement* infer = gst_bin_get_by_name(GST_BIN(d), "infer");
  ASSERT_NE(infer, nullptr);
  g_object_get(infer, "inference-interval", &interval, nullptr);
  EXPECT_EQ(interval, 3u) << "set on the child";
  GParamSpec* ours = g_object_class_find_property(G_OBJECT_GET_CLASS(d), "max-unscored");
  GParamSpec* theirs = g_object_class_find_property(G_OBJECT_GET_CLASS(infer), "max-unscored");
  ASSERT_TRUE(ours && theirs);
  EXPECT_STREQ(g_param_spec_get_blurb(ours), g_param_spec_get_blurb(theirs));
  EXPECT_EQ(G_PARAM_SPEC_UINT(ours)->default_value, 25u);
  gst_object_unref(infer);
  gst_object_unref(d);
}

TEST_F(GstDetect, MetadataOnlyWritesJsonAndLeavesPixelsAlone) {
  const std::string json = dir.file("out.jsonl");
  GstElement* pipeline = launch("appsrc name=src format=time caps=" + video_caps("RGB", W, H) +
                                " ! advaddetect overlay=false profile=" + P + " json-location=" + json +
                                " ! appsink name=sink sync=false");
  Collected out;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstAppSinkCallbacks cb{};
  cb.new_sample = &Collected::on_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, &out, nullptr);
  gst_object_unref(sink);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  std::vector<std::vector<guint8>> before;
  for (int i = 0; i < 4; ++i) {
    GstBuffer* b = frame_buffer(make_synthetic_frame(W, H, i % 2 == 1, 70 + i), "RGB", i * GST_SECOND / 10);
    before.push_back(buffer_bytes(b));
    gst_app_src_push_buffer(GST_APP_SRC(src), b);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_TRUE(run.eos) << run.error_text();
  ASSERT_EQ(out.samples.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(buffer_bytes(gst_sample_get_buffer(out.samples[i])), before[i]) << i;
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["verdict"], "ok");
  EXPECT_EQ(lines[1]["verdict"], "defect");
  EXPECT_EQ(lines[3]["verdict"], "defect");
  gst_object_unref(pipeline);
}

TEST_F(GstDetect, WorksAsPlaybinsVideoFilterOnAFile) {
  const std::string video = dir.file("in.avi");
  {
    GstElement* make = launch("videotestsrc num-buffers=12 pattern=ball ! video/x-raw,width=160,height=120,"
                              "framerate=10/1 ! jpegenc ! avimux ! filesink location=" + video);
    BusRun run;
    run_pipeline(make, &run);
    ASSERT_TRUE(run.eos) << run.error_text();
    gst_object_unref(make);
  }
  const std::string json = dir.file("play.jsonl");
  GstElement* playbin = gst_element_factory_make("playbin", nullptr);
  ASSERT_NE(playbin, nullptr);
  GError* err = nullptr;
  GstElement* filter = gst_parse_bin_from_description(
      ("videoconvert ! advaddetect profile=" + P + " json-location=" + json + " ! videoconvert").c_str(), TRUE, &err);
  ASSERT_EQ(err, nullptr) << err->message;
  gchar* uri = gst_filename_to_uri(video.c_str(), nullptr);
  g_object_set(playbin, "uri", uri, "video-filter", filter, "video-sink", gst_element_factory_make("fakesink", nullptr),
               "audio-sink", gst_element_factory_make("fakesink", nullptr), nullptr);
  g_free(uri);
  BusRun run;
  run_pipeline(playbin, &run, "advad-detection");
  ASSERT_TRUE(run.eos) << run.error_text();
  EXPECT_EQ(run.element_messages.size(), 12u);
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 12u);
  for (const auto& l : lines) EXPECT_NE(l["verdict"], "unscored");
  gst_object_unref(playbin);
}

TEST_F(GstDetect, HotSwapThroughItsProfileRetilesAndRethresholds) {
  DemoOptions one;
  one.levels = {GridLevel{1, 1}};
  one.threshold = 0.4;
  const std::string q = write_demo_package(dir.file("one"), one);
  GstElement* pipeline = launch(
      "videotestsrc is-live=true num-buffers=30 ! video/x-raw,format=RGB,width=160,height=120,framerate=20/1 ! "
      "advaddetect name=d late-frames=carry overlay=false profile=" + P + " ! fakesink sync=true");
  GstElement* d = gst_bin_get_by_name(GST_BIN(pipeline), "d");
  BusRun run;
  int seen = 0;
  run_pipeline(pipeline, &run, "advad-detection", 60, [&](GstMessage* m) {
    const GstStructure* s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "advad-detection") &&
        ++seen == 6)
      g_object_set(d, "profile", q.c_str(), nullptr);
  });
  ASSERT_TRUE(run.eos) << run.error_text();
  EXPECT_EQ(messages_named(run, "advad-model-changed").size(), 1u);
  ASSERT_EQ(run.element_messages.size(), 30u);
  double last_threshold = 0;
  for (const auto* s : run.element_messages) {
    EXPECT_STRNE(gst_structure_get_string(s, "verdict"), "unscored");
    gst_structure_get_double(s, "threshold", &last_threshold);
  }
  EXPECT_DOUBLE_EQ(last_threshold, 0.4);
  GstStructure* stats = nullptr;
  g_object_get(d, "stats", &stats, nullptr);
  ASSERT_NE(stats, nullptr);
  guint64 swaps = 0;
  gst_structure_get_uint64(stats, "model-swaps", &swaps);
  EXPECT_EQ(swaps, 1u);
  gst_structure_free(stats);
  gst_object_unref(d);
  gst_object_unref(pipeline);
}

}  // namespace
}  // namespace advad::gsttest
