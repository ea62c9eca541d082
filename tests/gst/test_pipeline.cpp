// Whole pipelines (gst_parse_launch): appsrc or multifilesrc of synthetic
// frames -> advadtile -> advadinfer -> advadpostproc -> advadoverlay ->
// appsink / fakesink. Frames in = frames out, timestamps kept, planted defects
// found and reported in JSON lines and bus messages, renegotiation works.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "gst/advadmeta.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

bool json_region_overlaps(const nlohmann::json& regions, const cv::Rect& box) {
  for (const auto& r : regions)
    if ((cv::Rect(r["x"], r["y"], r["width"], r["height"]) & box).area() > 0) return true;
  return false;
}

class GstPipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
  TempDir dir;

};

TEST_F(GstPipeline, FramesInEqualFramesOutAndDefectsReachJsonAndBus) {
  const std::string json = dir.file("out.jsonl");
  GstElement* pipeline = launch("appsrc name=src format=time caps=" + video_caps("RGB", 160, 120) +
                                " ! advadtile profile=" + P + " ! advadinfer profile=" + P +
                                " ! advadpostproc ! advadoverlay json-location=" + json + " ! appsink name=sink sync=false");
  ASSERT_NE(pipeline, nullptr);
  Collected out;
  attach_sink(pipeline, &out);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  const int n = 6;
  std::vector<cv::Rect> boxes(n);
  const GstClockTime dt = GST_SECOND / 10;
  for (int i = 0; i < n; ++i) {
    const bool defect = i == 1 || i == 4;
    GstBuffer* b = frame_buffer(make_synthetic_frame(160, 120, defect, 100 + i, defect ? &boxes[i] : nullptr), "RGB",
                                GST_SECOND + i * dt, dt);
    ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), b), GST_FLOW_OK);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
  BusRun run;
  run_pipeline(pipeline, &run);
  gst_object_unref(pipeline);
  ASSERT_FALSE(run.error) << run.error_text();
  ASSERT_TRUE(run.eos) << "timed out";

  ASSERT_EQ(out.samples.size(), static_cast<size_t>(n)) << "frames in = frames out";
  for (int i = 0; i < n; ++i) {
    GstBuffer* b = gst_sample_get_buffer(out.samples[i]);
    EXPECT_EQ(GST_BUFFER_PTS(b), GST_SECOND + i * dt) << i;
    EXPECT_EQ(GST_BUFFER_DURATION(b), dt) << i;
    AdvadResultPtr r = result_of(b);
    ASSERT_TRUE(r && r->detection) << i;
    EXPECT_EQ(r->detection->anomalous, i == 1 || i == 4) << i;
  }

  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    const bool defect = i == 1 || i == 4;
    EXPECT_EQ(lines[i]["frame"], i);
    EXPECT_EQ(lines[i]["pts"].get<long long>(), static_cast<long long>(GST_SECOND + i * dt));
    EXPECT_EQ(lines[i]["verdict"], defect ? "defect" : "ok");
    EXPECT_EQ(lines[i]["carried"], false);
    EXPECT_EQ(lines[i]["width"], 160);
    EXPECT_TRUE(lines[i]["wallclock"].is_string());
    if (defect) {
      EXPECT_TRUE(json_region_overlaps(lines[i]["regions"], boxes[i]));
    }
    EXPECT_EQ(lines[i]["score"].get<double>() >= 0.5, defect);
  }

  ASSERT_EQ(run.element_messages.size(), static_cast<size_t>(n)) << "one advad-detection message per frame";
  for (int i = 0; i < n; ++i) {
    const GstStructure* s = run.element_messages[i];
    guint64 frame = 99, ts = 0;
    gst_structure_get_uint64(s, "frame", &frame);
    gst_structure_get_uint64(s, "timestamp", &ts);
    EXPECT_EQ(frame, static_cast<guint64>(i));
    EXPECT_EQ(ts, GST_SECOND + i * dt);
    EXPECT_STREQ(gst_structure_get_string(s, "verdict"), (i == 1 || i == 4) ? "defect" : "ok");
  }
}

TEST_F(GstPipeline, RenegotiatesSizeAndFormatMidStream) {
  const std::string json = dir.file("reneg.jsonl");
  GstElement* pipeline = launch("appsrc name=src format=time ! advadinfer profile=" + P +
                                " ! advadpostproc ! advadoverlay json-location=" + json + " ! appsink name=sink sync=false");
  ASSERT_NE(pipeline, nullptr);
  Collected out;
  attach_sink(pipeline, &out);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  struct Part {
    std::string format;
    int w, h;
  } parts[] = {{"RGB", 160, 120}, {"BGRx", 96, 64}, {"GRAY8", 200, 150}};
  int i = 0;
  for (const auto& part : parts) {
    GstCaps* caps = gst_caps_from_string(video_caps(part.format, part.w, part.h).c_str());
    for (int k = 0; k < 2; ++k, ++i) {
      GstBuffer* b = frame_buffer(make_synthetic_frame(part.w, part.h, k == 1, 200 + i), part.format, i * GST_SECOND / 10);
      GstSample* s = gst_sample_new(b, caps, nullptr, nullptr);
      ASSERT_EQ(gst_app_src_push_sample(GST_APP_SRC(src), s), GST_FLOW_OK);
      gst_sample_unref(s);
      gst_buffer_unref(b);
    }
    gst_caps_unref(caps);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
  BusRun run;
  run_pipeline(pipeline, &run);
  gst_object_unref(pipeline);
  ASSERT_FALSE(run.error) << run.error_text();
  ASSERT_TRUE(run.eos);
  ASSERT_EQ(out.samples.size(), 6u);
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 6u);
  for (int j = 0; j < 6; ++j) {
    SCOPED_TRACE(j);
    const Part& part = parts[j / 2];
    AdvadResultPtr r = result_of(gst_sample_get_buffer(out.samples[j]));
    ASSERT_TRUE(r && r->map && r->detection);
    EXPECT_EQ(r->map->map.size(), cv::Size(part.w, part.h));
    EXPECT_EQ(r->detection->mask.size(), cv::Size(part.w, part.h));
    EXPECT_EQ(r->layout->frame_width, part.w);
    EXPECT_EQ(lines[j]["width"], part.w);
    EXPECT_EQ(lines[j]["height"], part.h);
    EXPECT_EQ(lines[j]["verdict"], j % 2 ? "defect" : "ok");
  }
}

TEST_F(GstPipeline, ImageFolderThroughMultifilesrcWithInferenceInterval) {
  std::vector<cv::Rect> boxes(4);
  for (int i = 0; i < 4; ++i) {
    cv::Mat bgr;
    cv::cvtColor(make_synthetic_frame(128, 96, i % 2 == 0, 300 + i, &boxes[i]), bgr, cv::COLOR_RGB2BGR);
    char name[32];
    std::snprintf(name, sizeof name, "frame_%03d.png", i);
    ASSERT_TRUE(cv::imwrite(dir.file(name), bgr));
  }
  const std::string json = dir.file("folder.jsonl");
  // model=<package folder> alone: the package's profile.ini is the profile.
  GstElement* pipeline =
      launch("multifilesrc location=" + dir.file("frame_%03d.png") + " index=0 stop-index=3 caps=image/png,framerate=5/1"
             " ! pngdec ! videoconvert ! advadinfer inference-interval=2 model=" + demo_package_dir() +
             " ! advadpostproc ! advadoverlay metadata-only=true json-location=" + json + " ! fakesink sync=false");
  ASSERT_NE(pipeline, nullptr);
  BusRun run;
  run_pipeline(pipeline, &run);
  gst_object_unref(pipeline);
  ASSERT_FALSE(run.error) << run.error_text();
  ASSERT_TRUE(run.eos);
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(lines[i]["carried"], i % 2 == 1) << "every 2nd frame is scored";
    EXPECT_EQ(lines[i]["scored_frame"], i - i % 2);
    // Frames 0 and 2 (scored) have defects; 1 and 3 carry their results.
    EXPECT_EQ(lines[i]["verdict"], "defect");
    EXPECT_TRUE(json_region_overlaps(lines[i]["regions"], boxes[i - i % 2]));
  }
}

}  // namespace
}  // namespace advad::gsttest
