// One profile, set once: advadtile without a profile tiles as the advadinfer
// downstream scores, two elements whose profiles tile differently fail at
// negotiation naming both, and a swap between profiles of different layouts
// under a live source tiles every frame for the model that scores it.
#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include "gst/advadmeta.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

constexpr int W = 160, H = 120;

class GstFollow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();  // 2x2 tiles
  TempDir dir;

  std::string one_tile_profile() {
    DemoOptions one;
    one.levels = {GridLevel{1, 1}};
    one.threshold = 0.4;
    return write_demo_package(dir.file("one_tile"), one);
  }
};

TEST_F(GstFollow, TileWithoutAProfileTilesAsTheInferDownstreamScores) {
  GstHarness* h = gst_harness_new_parse(("advadtile ! advadinfer profile=" + P).c_str());
  gst_harness_set_src_caps_str(h, video_caps("RGB", W, H).c_str());
  GstBuffer* out = gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, false, 1), "RGB", 0));
  ASSERT_NE(out, nullptr);
  AdvadResultPtr r = result_of(out);
  ASSERT_TRUE(r && r->map && r->layout);
  EXPECT_EQ(r->layout->tiles.size(), 4u);
  EXPECT_TRUE(r->unscored_reason.empty()) << r->unscored_detail;
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

TEST_F(GstFollow, TileWithTheSameProfileIsAccepted) {
  GstHarness* h = gst_harness_new_parse(("advadtile profile=" + P + " ! advadinfer profile=" + P).c_str());
  gst_harness_set_src_caps_str(h, video_caps("RGB", W, H).c_str());
  GstBuffer* out = gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, false, 2), "RGB", 0));
  ASSERT_NE(out, nullptr);
  AdvadResultPtr r = result_of(out);
  ASSERT_TRUE(r && r->map);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

TEST_F(GstFollow, ProfilesThatTileDifferentlyFailAtNegotiationNamingBoth) {
  const std::string one = one_tile_profile();
  GstElement* pipeline = launch("videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=160,height=120 ! "
                                "advadtile name=tiler profile=" + one + " ! advadinfer name=scorer profile=" + P +
                                " ! fakesink");
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_NE(run.error, nullptr) << "a 1x1 layout must not be scored by a 2x2 model";
  const std::string text = run.error_text();
  for (const std::string& w : {std::string("tiler"), std::string("scorer"), one, P,
                               std::string("[tiling] levels = 1x1 vs 2x2")})
    EXPECT_NE(text.find(w), std::string::npos) << w << " not in: " << text;
  gst_object_unref(pipeline);
}

TEST_F(GstFollow, TileWithoutAProfileAndNoInferToFollowIsAnError) {
  GstElement* pipeline = launch("videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=160,height=120 ! "
                                "advadtile name=tiler ! fakesink");
  BusRun run;
  run_pipeline(pipeline, &run);
  ASSERT_NE(run.error, nullptr);
  EXPECT_NE(run.error_text().find("tiler has no profile"), std::string::npos) << run.error_text();
  gst_object_unref(pipeline);
}

// Collects every buffer's result at the sink of a live chain and swaps the
// model after `swap_after` frames.
struct SwapRun {
  std::vector<AdvadResultPtr> results;
  BusRun bus;
};

void run_live_swap(GstElement* pipeline, const std::string& next, int swap_after, SwapRun* out) {
  GstElement* infer = gst_bin_get_by_name(GST_BIN(pipeline), "infer");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  static std::mutex mutex;
  GstAppSinkCallbacks cb{};
  cb.new_sample = [](GstAppSink* s, gpointer data) {
    auto* o = static_cast<SwapRun*>(data);
    GstSample* sample = gst_app_sink_pull_sample(s);
    std::lock_guard<std::mutex> lock(mutex);
    o->results.push_back(result_of(gst_sample_get_buffer(sample)));
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, out, nullptr);
  int seen = 0;
  run_pipeline(pipeline, &out->bus, "advad-model-changed", 60, [&](GstMessage* m) {
    const GstStructure* s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, "advad-detection") &&
        ++seen == swap_after)
      g_object_set(infer, "profile", next.c_str(), nullptr);
  });
  gst_object_unref(infer);
  gst_object_unref(sink);
}

std::string live_chain(const std::string& tile, const std::string& profile, const std::string& extra = "") {
  return "videotestsrc is-live=true num-buffers=40 ! video/x-raw,format=RGB,width=160,height=120,framerate=20/1 ! "
         "advadtile " + tile + " ! queue ! advadinfer name=infer late-frames=carry " + extra + " profile=" + profile +
         " ! advadpostproc ! appsink name=sink sync=true qos=true";
}

TEST_F(GstFollow, ASwapToAnotherLayoutTilesEveryFrameForTheModelThatScoresIt) {
  const std::string one = one_tile_profile();
  GstElement* pipeline = launch(live_chain("", P));
  SwapRun run;
  run_live_swap(pipeline, one, 8, &run);
  ASSERT_TRUE(run.bus.eos) << run.bus.error_text();
  ASSERT_EQ(run.bus.element_messages.size(), 1u) << "one advad-model-changed";
  ASSERT_EQ(run.results.size(), 40u) << "no frame lost";
  size_t four = 0, one_tile = 0;
  for (size_t i = 0; i < run.results.size(); ++i) {
    SCOPED_TRACE(i);
    const AdvadResultPtr& r = run.results[i];
    ASSERT_TRUE(r && r->layout && r->profile);
    EXPECT_TRUE(r->unscored_reason.empty()) << r->unscored_reason << ": " << r->unscored_detail;
    EXPECT_EQ(r->frame_number, i);
    // The frame's layout is the one its scoring model's profile makes.
    const size_t expected = r->profile->tiling.levels[0].cols * r->profile->tiling.levels[0].rows;
    EXPECT_EQ(r->layout->tiles.size(), expected);
    (r->layout->tiles.size() == 4 ? four : one_tile)++;
    if (i > 0) {
      EXPECT_FALSE(run.results[i - 1]->layout->tiles.size() == 1 && r->layout->tiles.size() == 4);
    }
  }
  EXPECT_GE(four, 8u);
  EXPECT_GE(one_tile, 1u) << "the new layout took over before the end";
  gst_object_unref(pipeline);
}

TEST_F(GstFollow, AFixedTileProfileAndASwapToAnotherLayoutLeaveFramesUnscoredWithAWarning) {
  const std::string one = one_tile_profile();
  GstElement* pipeline = launch(live_chain("profile=" + P, P, "max-unscored=0"));
  SwapRun run;
  run_live_swap(pipeline, one, 8, &run);
  ASSERT_TRUE(run.bus.eos) << run.bus.error_text();
  ASSERT_EQ(run.results.size(), 40u);
  size_t mismatched = 0;
  for (const auto& r : run.results) {
    ASSERT_TRUE(r);
    if (r->unscored_reason == "layout-mismatch") {
      ++mismatched;
      EXPECT_FALSE(r->map) << "never scored with a foreign layout";
    }
  }
  EXPECT_GE(mismatched, 1u);
  bool warned = false;
  for (const auto& w : run.bus.warnings) warned |= w.find("layout-mismatch") != std::string::npos;
  EXPECT_TRUE(warned);
  gst_object_unref(pipeline);
}

}  // namespace
}  // namespace advad::gsttest
