// advadinfer on a live line: frames leave in order with timestamps untouched
// while a worker scores, EOS waits for frames in flight, QoS drops are
// counted, broken maps are "unscored" (never "ok") with a warning and an
// error after max-unscored, stats, hot model swap under a live stream (bad
// file: warning, old model kept), one model shared by two elements, and
// state changes to NULL during scoring and during a swap.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "gst/advadmeta.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

constexpr int W = 160, H = 120;
const GstClockTime kFrame = GST_SECOND / 10;

guint64 stat_of(const GstStructure* s, const char* field) {
  guint64 v = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, field, &v)) << field;
  return v;
}

// The element's stats property.
struct Stats {
  GstStructure* s = nullptr;
  Stats(GstElement* pipeline, const char* name) {
    GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), name);
    g_object_get(e, "stats", &s, nullptr);
    gst_object_unref(e);
  }
  ~Stats() {
    if (s) gst_structure_free(s);
  }
  guint64 operator[](const char* field) const { return stat_of(s, field); }
};

class GstLive : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
  TempDir dir;

  // Queues RGB frames (0.1 s apart) and EOS into appsrc "src".
  void feed(GstElement* pipeline, const std::vector<cv::Mat>& frames) {
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    for (size_t i = 0; i < frames.size(); ++i)
      ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), frame_buffer(frames[i], "RGB", i * kFrame, kFrame)),
                GST_FLOW_OK);
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    gst_object_unref(src);
  }
  std::string appsrc() const { return "appsrc name=src format=time caps=" + video_caps("RGB", W, H); }
};

TEST_F(GstLive, FramesLeaveInOrderWithTimestampsUntouchedWhileTheWorkerScores) {
  FaultyOptions slow;
  slow.work = 40;
  const std::string p = write_faulty_package(dir.file("slow"), slow);
  GstHarness* h = gst_harness_new_parse(("advadinfer profile=" + p).c_str());
  gst_harness_set_src_caps_str(h, video_caps("RGB", W, H).c_str());
  const int n = 12;
  for (int i = 0; i < n; ++i) {
    GstBuffer* b = frame_buffer(make_synthetic_frame(W, H, false, i), "RGB", 1000 + i * kFrame, kFrame);
    GST_BUFFER_OFFSET(b) = 500 + i;
    ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
  }
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    GstBuffer* out = gst_harness_pull(h);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(GST_BUFFER_PTS(out), 1000 + i * kFrame);
    EXPECT_EQ(GST_BUFFER_DURATION(out), kFrame);
    EXPECT_EQ(GST_BUFFER_OFFSET(out), static_cast<guint64>(500 + i));
    AdvadResultPtr r = result_of(out);
    ASSERT_TRUE(r && r->map);
    EXPECT_EQ(r->frame_number, static_cast<guint64>(i));
    EXPECT_FALSE(r->carried);
    EXPECT_TRUE(r->unscored_reason.empty());
    EXPECT_NE(r->model_id.find(p.substr(0, p.rfind('/'))), std::string::npos) << r->model_id;
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
}

TEST_F(GstLive, EosComesAfterEveryFrameInFlight) {
  FaultyOptions slow;
  slow.work = 60;
  const std::string p = write_faulty_package(dir.file("slow"), slow);
  GstElement* pipeline = launch(appsrc() + " ! advadinfer profile=" + p + " ! appsink name=sink sync=false");
  Collected out;
  attach_sink(pipeline, &out);
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 15; ++i) frames.push_back(make_synthetic_frame(W, H, false, 30 + i));
  feed(pipeline, frames);
  BusRun run;
  run_pipeline(pipeline, &run);
  EXPECT_TRUE(run.eos) << run.error_text();
  ASSERT_EQ(out.samples.size(), 15u) << "every queued frame came out before EOS";
  for (size_t i = 0; i < out.samples.size(); ++i) {
    AdvadResultPtr r = result_of(gst_sample_get_buffer(out.samples[i]));
    ASSERT_TRUE(r && r->map);
    EXPECT_EQ(r->frame_number, i);
  }
  gst_object_unref(pipeline);
}

TEST_F(GstLive, QosFromDownstreamDropsLateFramesAndCountsThem) {
  GstHarness* h = gst_harness_new_parse(("advadinfer profile=" + P).c_str());
  gst_harness_set_src_caps_str(h, video_caps("RGB", W, H).c_str());
  GstBuffer* first = gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, false, 1), "RGB", 0, kFrame));
  ASSERT_NE(first, nullptr);
  gst_buffer_unref(first);
  // The sink is 5 s behind at running time 1 s: frames before 11 s are late.
  ASSERT_TRUE(gst_harness_push_upstream_event(
      h, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 2.0, 5 * GST_SECOND, 1 * GST_SECOND)));
  for (int i = 1; i <= 5; ++i)
    ASSERT_EQ(gst_harness_push(h, frame_buffer(make_synthetic_frame(W, H, false, i), "RGB", i * GST_SECOND, kFrame)),
              GST_FLOW_OK);
  GstBuffer* on_time =
      gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, false, 9), "RGB", 12 * GST_SECOND, kFrame));
  ASSERT_NE(on_time, nullptr);
  EXPECT_EQ(GST_BUFFER_PTS(on_time), 12 * GST_SECOND) << "the late frames never came out";
  AdvadResultPtr r = result_of(on_time);
  ASSERT_TRUE(r && r->map);
  EXPECT_EQ(r->frame_number, 6u) << "frame numbers count the dropped frames too";
  gst_buffer_unref(on_time);
  GstStructure* stats = nullptr;
  GstElement* infer = gst_harness_find_element(h, "advadinfer");
  g_object_get(infer, "stats", &stats, nullptr);
  gst_object_unref(infer);
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stat_of(stats, "frames-in"), 7u);
  EXPECT_EQ(stat_of(stats, "dropped-late"), 5u);
  EXPECT_EQ(stat_of(stats, "scored"), 2u);
  gst_structure_free(stats);
  gst_harness_teardown(h);
}

struct FaultCase {
  const char* fault;
  const char* reason;
};

class BrokenMaps : public GstLive, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(BrokenMaps, AreUnscoredEverywhereNeverOkWithOneWarningNamingTheModel) {
  FaultyOptions o;
  o.fault = GetParam().fault;
  const std::string p = write_faulty_package(dir.file("faulty"), o);
  const std::string json = dir.file("out.jsonl");
  GstElement* pipeline = launch(appsrc() + " ! advadinfer name=infer max-unscored=0 profile=" + p +
                                " ! advadpostproc ! advadoverlay json-location=" + json + " ! appsink name=sink sync=false");
  Collected out;
  attach_sink(pipeline, &out);
  // textured (fine), bright (broken), textured, bright, bright
  feed(pipeline, {make_synthetic_frame(W, H, false, 1), flat_frame(W, H, 250), make_synthetic_frame(W, H, false, 2),
                  flat_frame(W, H, 250), flat_frame(W, H, 250)});
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_TRUE(run.eos) << run.error_text();
  const bool broken[] = {false, true, false, true, true};
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 5u);
  ASSERT_EQ(run.element_messages.size(), 5u);
  ASSERT_EQ(out.samples.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const std::string verdict = lines[i]["verdict"];
    const char* msg_verdict = gst_structure_get_string(run.element_messages[i], "verdict");
    GstBuffer* buf = gst_sample_get_buffer(out.samples[i]);
    AdvadResultPtr r = result_of(buf);
    ASSERT_TRUE(r);
    if (broken[i]) {
      EXPECT_EQ(verdict, "unscored");
      EXPECT_EQ(lines[i]["reason"], GetParam().reason);
      EXPECT_TRUE(lines[i]["score"].is_null());
      EXPECT_STREQ(msg_verdict, "unscored");
      EXPECT_STREQ(gst_structure_get_string(run.element_messages[i], "reason"), GetParam().reason);
      EXPECT_EQ(r->unscored_reason, GetParam().reason);
      EXPECT_FALSE(r->map);
      EXPECT_FALSE(r->detection);
      EXPECT_EQ(gst_buffer_get_meta(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), nullptr) << "no ROI metas";
    } else {
      EXPECT_EQ(verdict, "ok");
      EXPECT_STREQ(msg_verdict, "ok");
      EXPECT_TRUE(r->unscored_reason.empty());
    }
    EXPECT_EQ(lines[i]["model"], r->model_id);
  }
  // One warning (rate-limited), from advadinfer, naming the model file and the reason.
  int from_infer = 0;
  for (size_t i = 0; i < run.warnings.size(); ++i) {
    if (run.warning_sources[i] != "infer") continue;
    ++from_infer;
    EXPECT_NE(run.warnings[i].find(p.substr(0, p.rfind('/')) + "/model.pt"), std::string::npos) << run.warnings[i];
    EXPECT_NE(run.warnings[i].find(GetParam().reason), std::string::npos) << run.warnings[i];
  }
  EXPECT_EQ(from_infer, 1);
  Stats stats(pipeline, "infer");
  EXPECT_EQ(stats["unscored"], 3u);
  EXPECT_EQ(stats[(std::string("unscored-") + GetParam().reason).c_str()], 3u);
  EXPECT_EQ(stats["scored"], 2u);
  gst_object_unref(pipeline);
}

INSTANTIATE_TEST_SUITE_P(Faults, BrokenMaps,
                         ::testing::Values(FaultCase{"nan", "non-finite"}, FaultCase{"inf", "non-finite"},
                                           FaultCase{"shape", "wrong-shape"}),
                         [](const auto& info) { return std::string(info.param.fault); });

TEST_F(GstLive, CarriedFramesAfterABrokenMapAreUnscoredToo) {
  FaultyOptions o;
  o.fault = "nan";
  const std::string p = write_faulty_package(dir.file("faulty"), o);
  const std::string json = dir.file("out.jsonl");
  GstElement* pipeline = launch(appsrc() + " ! advadinfer inference-interval=2 max-unscored=0 profile=" + p +
                                " ! advadpostproc ! advadoverlay metadata-only=true json-location=" + json +
                                " ! fakesink");
  feed(pipeline, {flat_frame(W, H, 250), make_synthetic_frame(W, H, false, 1), make_synthetic_frame(W, H, false, 2),
                  make_synthetic_frame(W, H, false, 3)});
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_TRUE(run.eos) << run.error_text();
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["verdict"], "unscored");
  EXPECT_EQ(lines[1]["verdict"], "unscored") << "carries frame 0's outcome";
  EXPECT_EQ(lines[1]["carried"], true);
  EXPECT_EQ(lines[2]["verdict"], "ok");
  EXPECT_EQ(lines[3]["verdict"], "ok");
  gst_object_unref(pipeline);
}

TEST_F(GstLive, MaxUnscoredFramesInARowPostAnError) {
  FaultyOptions o;
  o.fault = "nan";
  const std::string p = write_faulty_package(dir.file("faulty"), o);
  GstElement* pipeline = launch(appsrc() + " ! advadinfer max-unscored=3 profile=" + p + " ! fakesink");
  std::vector<cv::Mat> frames{make_synthetic_frame(W, H, false, 1)};
  for (int i = 0; i < 8; ++i) frames.push_back(flat_frame(W, H, 250));
  feed(pipeline, frames);
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_NE(run.error, nullptr) << "8 NaN frames in a row with max-unscored=3";
  EXPECT_NE(run.error_text().find("3 frames in a row left unscored"), std::string::npos) << run.error_text();
  EXPECT_NE(run.error_text().find("model.pt"), std::string::npos) << run.error_text();
  gst_object_unref(pipeline);
}

TEST_F(GstLive, AConstantMapIsScoredButCountedAsSuspicious) {
  FaultyOptions o;
  o.fault = "constant";
  const std::string p = write_faulty_package(dir.file("const"), o);
  GstElement* pipeline = launch(appsrc() + " ! advadinfer name=infer profile=" + p + " ! advadpostproc ! fakesink");
  feed(pipeline, {make_synthetic_frame(W, H, false, 1), flat_frame(W, H, 250), flat_frame(W, H, 250)});
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_TRUE(run.eos) << run.error_text();
  Stats stats(pipeline, "infer");
  EXPECT_EQ(stats["suspicious-constant"], 2u);
  EXPECT_EQ(stats["scored"], 3u);
  EXPECT_EQ(stats["unscored"], 0u);
  bool warned = false;
  for (const auto& w : run.warnings) warned |= w.find("exactly constant") != std::string::npos;
  EXPECT_TRUE(warned);
  gst_object_unref(pipeline);
}

TEST_F(GstLive, StatsPropertyAndPeriodicMessagesCountEveryFrame) {
  GstElement* pipeline = launch(appsrc() + " ! advadinfer name=infer inference-interval=2 stats-interval=0.000001 profile=" +
                                P + " ! advadpostproc ! fakesink");
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 8; ++i) frames.push_back(make_synthetic_frame(W, H, i == 0 || i == 4, 60 + i));
  feed(pipeline, frames);
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_TRUE(run.eos) << run.error_text();
  const auto periodic = messages_named(run, "advad-stats");
  ASSERT_GE(periodic.size(), 4u) << "one per frame at this interval";
  EXPECT_EQ(stat_of(periodic.back(), "frames-in"), 8u);
  Stats stats(pipeline, "infer");
  EXPECT_EQ(stats["frames-in"], 8u);
  EXPECT_EQ(stats["scored"], 4u);
  EXPECT_EQ(stats["carried"], 4u);
  EXPECT_EQ(stats["dropped-late"], 0u);
  EXPECT_EQ(stats["defects"], 4u) << "frames 0 and 4 have a defect; 1 and 5 carry it (counted by advadpostproc)";
  double p50 = 0, p95 = 0, latency = 0;
  ASSERT_TRUE(gst_structure_get_double(stats.s, "scoring-p50-ms", &p50));
  ASSERT_TRUE(gst_structure_get_double(stats.s, "scoring-p95-ms", &p95));
  ASSERT_TRUE(gst_structure_get_double(stats.s, "latency-ms", &latency));
  EXPECT_GT(p50, 0);
  EXPECT_GE(p95, p50);
  EXPECT_GT(latency, 0);
  const gchar* model = gst_structure_get_string(stats.s, "model");
  ASSERT_NE(model, nullptr);
  EXPECT_NE(std::string(model).find("@"), std::string::npos);
  EXPECT_STREQ(gst_structure_get_string(stats.s, "profile"), P.c_str());
  gst_object_unref(pipeline);
}

// A live source into a synchronising sink; `when` decides on each detection
// message whether to set advadinfer's profile to `next` now.
std::string live_chain(const std::string& profile, int buffers, const std::string& extra = "") {
  return "videotestsrc is-live=true num-buffers=" + std::to_string(buffers) + " pattern=smpte ! video/x-raw,format=RGB,width=" +
         std::to_string(W) + ",height=" + std::to_string(H) + ",framerate=20/1 ! advadinfer name=infer late-frames=carry " +
         extra + " profile=" + profile + " ! advadpostproc ! fakesink sync=true qos=true";
}

TEST_F(GstLive, SwapUnderALiveStreamLosesNoFrameAndPostsModelChanged) {
  DemoOptions other;
  other.threshold = 0.3;
  const std::string q = write_demo_package(dir.file("other"), other);
  GstElement* pipeline = launch(live_chain(P, 40));
  GstElement* infer = gst_bin_get_by_name(GST_BIN(pipeline), "infer");
  BusRun run;
  int detections = 0;
  run_pipeline(pipeline, &run, "advad-detection", 60, [&](GstMessage* m) {
    const GstStructure* s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "advad-detection") &&
        ++detections == 8)
      g_object_set(infer, "profile", q.c_str(), nullptr);
  });
  ASSERT_TRUE(run.eos) << run.error_text();
  const auto changed = messages_named(run, "advad-model-changed");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_STREQ(gst_structure_get_string(changed[0], "old-profile"), P.c_str());
  EXPECT_STREQ(gst_structure_get_string(changed[0], "new-profile"), q.c_str());
  double load = -1;
  EXPECT_TRUE(gst_structure_get_double(changed[0], "load-seconds", &load));
  EXPECT_GE(load, 0);
  const std::string new_model = gst_structure_get_string(changed[0], "model");
  // Every frame came out, in order; the model changes once, between two frames.
  ASSERT_EQ(run.element_messages.size(), 40u);
  int switches = 0;
  std::string prev;
  for (size_t i = 0; i < run.element_messages.size(); ++i) {
    guint64 f = 0;
    gst_structure_get_uint64(run.element_messages[i], "frame", &f);
    EXPECT_EQ(f, i);
    const std::string model = gst_structure_get_string(run.element_messages[i], "model");
    if (!prev.empty() && model != prev) ++switches;
    prev = model;
    EXPECT_STRNE(gst_structure_get_string(run.element_messages[i], "verdict"), "unscored");
  }
  EXPECT_EQ(switches, 1);
  EXPECT_EQ(prev, new_model);
  double threshold = 0;
  gst_structure_get_double(run.element_messages.back(), "threshold", &threshold);
  EXPECT_DOUBLE_EQ(threshold, 0.3) << "advadpostproc follows the profile of the model that scored the frame";
  gst_object_unref(infer);
  gst_object_unref(pipeline);
}

TEST_F(GstLive, ABadSwapWarnsNamingTheFileAndTheOldModelKeepsScoring) {
  const std::string bad = dir.write("broken.ini", "[profile]\nmethod = torchscript\nmodel = nowhere.pt\n");
  GstElement* pipeline = launch(live_chain(P, 30));
  GstElement* infer = gst_bin_get_by_name(GST_BIN(pipeline), "infer");
  gchar* before = nullptr;
  BusRun run;
  int detections = 0;
  run_pipeline(pipeline, &run, "advad-detection", 60, [&](GstMessage* m) {
    const GstStructure* s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "advad-detection") &&
        ++detections == 5) {
      g_object_get(infer, "model-id", &before, nullptr);
      g_object_set(infer, "profile", bad.c_str(), nullptr);
    }
  });
  ASSERT_TRUE(run.eos) << run.error_text();
  ASSERT_NE(before, nullptr);
  bool named = false;
  for (const auto& w : run.warnings) named |= w.find("broken.ini") != std::string::npos && w.find("Model not changed") != std::string::npos;
  EXPECT_TRUE(named) << (run.warnings.empty() ? "no warning" : run.warnings[0]);
  EXPECT_TRUE(messages_named(run, "advad-model-changed").empty());
  ASSERT_EQ(run.element_messages.size(), 30u);
  for (const auto* s : run.element_messages) EXPECT_STREQ(gst_structure_get_string(s, "model"), before);
  g_free(before);
  gst_object_unref(infer);
  gst_object_unref(pipeline);
}

TEST_F(GstLive, TwoElementsOnOnePackageShareOneModel) {
  FaultyOptions big;
  big.ballast_mb = 256;
  const std::string p = write_faulty_package(dir.file("big"), big);
  auto paused = [&](const std::string& name) {
    GstElement* pl = launch("videotestsrc ! video/x-raw,format=RGB,width=160,height=120 ! advadinfer name=" + name +
                            " profile=" + p + " ! fakesink");
    EXPECT_EQ(gst_element_set_state(pl, GST_STATE_PAUSED), GST_STATE_CHANGE_ASYNC);
    EXPECT_EQ(gst_element_get_state(pl, nullptr, nullptr, 60 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    return pl;
  };
  const size_t rss0 = resident_bytes();
  GstElement* a = paused("a");
  const size_t rss1 = resident_bytes();
  GstElement* b = paused("b");
  const size_t rss2 = resident_bytes();
  const double first = static_cast<double>(rss1) - static_cast<double>(rss0);
  const double second = static_cast<double>(rss2) - static_cast<double>(rss1);
  EXPECT_GT(first, 240.0 * (1 << 20)) << "the first element holds the 256 MB model";
  EXPECT_LE(second, 0.2 * first) << "the second adds at most 20 % of the first (measured " << second / (1 << 20)
                                 << " MB vs " << first / (1 << 20) << " MB)";
  GstElement* ia = gst_bin_get_by_name(GST_BIN(a), "a");
  GstElement* ib = gst_bin_get_by_name(GST_BIN(b), "b");
  gchar *ida = nullptr, *idb = nullptr;
  g_object_get(ia, "model-id", &ida, nullptr);
  g_object_get(ib, "model-id", &idb, nullptr);
  EXPECT_STREQ(ida, idb);
  g_free(ida);
  g_free(idb);
  gst_object_unref(ia);
  gst_object_unref(ib);
  gst_element_set_state(a, GST_STATE_NULL);
  gst_element_set_state(b, GST_STATE_NULL);
  gst_object_unref(a);
  gst_object_unref(b);
}

TEST_F(GstLive, SwapInOneElementLeavesTheOtherAlone) {
  DemoOptions other;
  other.threshold = 0.3;
  const std::string q = write_demo_package(dir.file("other"), other);
  GstElement* pipeline = launch(
      "videotestsrc is-live=true num-buffers=30 ! video/x-raw,format=RGB,width=160,height=120,framerate=20/1 ! tee name=t "
      "t. ! queue ! advadinfer name=one profile=" + P + " ! fakesink sync=true "
      "t. ! queue ! advadinfer name=two profile=" + P + " ! fakesink sync=true");
  GstElement* one = gst_bin_get_by_name(GST_BIN(pipeline), "one");
  GstElement* two = gst_bin_get_by_name(GST_BIN(pipeline), "two");
  BusRun run;
  bool asked = false;
  run_pipeline(pipeline, &run, "advad-model-changed", 60, [&](GstMessage* m) {
    if (!asked && GST_MESSAGE_TYPE(m) == GST_MESSAGE_STREAM_START) {
      asked = true;
      g_object_set(one, "profile", q.c_str(), nullptr);
    }
  });
  ASSERT_TRUE(run.eos) << run.error_text();
  ASSERT_EQ(run.element_messages.size(), 1u);
  gchar *id1 = nullptr, *id2 = nullptr;
  g_object_get(one, "model-id", &id1, nullptr);
  g_object_get(two, "model-id", &id2, nullptr);
  EXPECT_STRNE(id1, id2);
  EXPECT_NE(std::string(id2).find(load_profile(P).model), std::string::npos);
  g_free(id1);
  g_free(id2);
  gst_object_unref(one);
  gst_object_unref(two);
  gst_object_unref(pipeline);
}

// PLAYING -> NULL while a slow model scores, and while a swap loads: returns,
// no crash, and the pipeline can run again.
TEST_F(GstLive, NullDuringScoringAndDuringASwapReturnsCleanly) {
  FaultyOptions slow;
  slow.work = 400;
  const std::string p = write_faulty_package(dir.file("slow"), slow);
  const std::string q = write_faulty_package(dir.file("slow2"), slow);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    GstElement* pipeline = launch(live_chain(p, 1000));
    GstElement* infer = gst_bin_get_by_name(GST_BIN(pipeline), "infer");
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ASSERT_EQ(gst_element_get_state(pipeline, nullptr, nullptr, 60 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    if (round == 1) g_object_set(infer, "profile", q.c_str(), nullptr);  // a load in flight
    EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(infer);
    gst_object_unref(pipeline);
  }
}

}  // namespace
}  // namespace advad::gsttest
