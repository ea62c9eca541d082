// GstHarness tests, one element (or a short chain) at a time: caps for every
// format, pixels and timestamps untouched, metas attached, properties,
// inference-interval, latency.
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/profile.h"
#include "gst/advadmeta.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

constexpr int W = 160, H = 120;

// The meta as the plugin registered it (the test does not link the plugin).
AdvadResultPtr result_of(GstBuffer* buf) {
  const GType api = g_type_from_name("GstAdvadMetaAPI");
  if (!api) return nullptr;
  auto* m = reinterpret_cast<GstAdvadMeta*>(gst_buffer_get_meta(buf, api));
  return m ? *m->result : nullptr;
}

std::vector<GstVideoRegionOfInterestMeta*> rois(GstBuffer* buf) {
  std::vector<GstVideoRegionOfInterestMeta*> out;
  gpointer state = nullptr;
  while (GstMeta* m = gst_buffer_iterate_meta_filtered(buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    out.push_back(reinterpret_cast<GstVideoRegionOfInterestMeta*>(m));
  return out;
}

GstHarness* harness(const std::string& launch, const std::string& format, int w = W, int h = H) {
  GstHarness* hr = gst_harness_new_parse(launch.c_str());
  gst_harness_set_src_caps_str(hr, video_caps(format, w, h).c_str());
  return hr;
}

class GstElements : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
};

TEST_F(GstElements, TilePassesEveryFormatUntouchedAndAttachesLayout) {
  for (const auto& fmt : all_formats()) {
    SCOPED_TRACE(fmt);
    GstHarness* h = harness("advadtile profile=" + P, fmt);
    GstBuffer* in = frame_buffer(make_synthetic_frame(W, H, true, 1), fmt, 5 * GST_SECOND, GST_SECOND / 10);
    GST_BUFFER_OFFSET(in) = 42;
    const auto before = buffer_bytes(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out, in) << "one buffer in, the same buffer out";
    EXPECT_EQ(buffer_bytes(out), before);
    EXPECT_EQ(GST_BUFFER_PTS(out), 5 * GST_SECOND);
    EXPECT_EQ(GST_BUFFER_DTS(out), 5 * GST_SECOND);
    EXPECT_EQ(GST_BUFFER_DURATION(out), GST_SECOND / 10);
    EXPECT_EQ(GST_BUFFER_OFFSET(out), 42u);
    AdvadResultPtr r = result_of(out);
    ASSERT_TRUE(r && r->layout);
    EXPECT_EQ(r->layout->frame_width, W);
    EXPECT_EQ(r->layout->frame_height, H);
    EXPECT_EQ(r->layout->tiles.size(), 4u);  // the demo profile tiles 2 x 2
    EXPECT_FALSE(r->map) << "advadtile does not score";
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}

TEST_F(GstElements, InferScoresEveryFormatAndFindsThePlantedDefect) {
  for (const auto& fmt : all_formats()) {
    SCOPED_TRACE(fmt);
    GstHarness* h = harness("advadinfer profile=" + P, fmt);
    cv::Rect box;
    GstBuffer* clean = frame_buffer(make_synthetic_frame(W, H, false, 2), fmt, 0, GST_SECOND / 10);
    GstBuffer* defect = frame_buffer(make_synthetic_frame(W, H, true, 3, &box), fmt, GST_SECOND / 10, GST_SECOND / 10);
    const auto defect_bytes = buffer_bytes(defect);
    GstBuffer* out_clean = gst_harness_push_and_pull(h, clean);
    GstBuffer* out_defect = gst_harness_push_and_pull(h, defect);
    ASSERT_TRUE(out_clean && out_defect);
    EXPECT_EQ(out_defect, defect);
    EXPECT_EQ(buffer_bytes(out_defect), defect_bytes);
    EXPECT_EQ(GST_BUFFER_PTS(out_defect), GST_SECOND / 10);
    AdvadResultPtr rc = result_of(out_clean), rd = result_of(out_defect);
    ASSERT_TRUE(rc && rc->map && rd && rd->map);
    EXPECT_EQ(rd->map->map.cols, W);
    EXPECT_EQ(rd->map->map.rows, H);
    EXPECT_EQ(rd->layout->tiles.size(), 4u) << "layout computed without advadtile";
    EXPECT_LT(rc->map->score, 0.5f);
    EXPECT_GE(rd->map->score, 0.5f);
    double inside = 0;
    cv::minMaxLoc(rd->map->map(box & cv::Rect(0, 0, W, H)), nullptr, &inside);
    EXPECT_GE(inside, 0.5) << "the map is high where the defect is";
    EXPECT_EQ(rc->frame_number, 0u);
    EXPECT_EQ(rd->frame_number, 1u);
    EXPECT_FALSE(rd->carried);
    gst_buffer_unref(out_clean);
    gst_buffer_unref(out_defect);
    gst_harness_teardown(h);
  }
}

TEST_F(GstElements, InferUsesTheLayoutOfAdvadtileWhenPresent) {
  TempDir dir;
  DemoOptions one_tile;
  one_tile.levels = {GridLevel{1, 1}};
  const std::string p1 = dir.file("one_tile.ini");
  save_profile(advad::demo_profile(load_profile(P).model, one_tile), p1);
  // (Profiles that tile differently are refused: tests/gst/test_follow.cpp.)
  GstHarness* h = harness("advadtile profile=" + p1 + " ! advadinfer profile=" + p1, "RGB");
  GstBuffer* out = gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, false, 4), "RGB", 0));
  AdvadResultPtr r = result_of(out);
  ASSERT_TRUE(r && r->map);
  EXPECT_EQ(r->layout->tiles.size(), 1u);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

TEST_F(GstElements, InferenceIntervalScoresEveryNthFrameAndMarksTheOthers) {
  GstHarness* h = harness("advadinfer inference-interval=3 profile=" + P, "BGRx");
  std::vector<AdvadResultPtr> results;
  for (int i = 0; i < 7; ++i) {
    // Frames 1 and 2 have a defect, but they are not scored: they carry frame 0's clean result.
    const bool defect = i == 1 || i == 2 || i == 3;
    GstBuffer* out = gst_harness_push_and_pull(
        h, frame_buffer(make_synthetic_frame(W, H, defect, 10 + i), "BGRx", i * GST_SECOND / 10));
    results.push_back(result_of(out));
    gst_buffer_unref(out);
  }
  const bool carried[] = {false, true, true, false, true, true, false};
  const guint64 scored[] = {0, 0, 0, 3, 3, 3, 6};
  for (int i = 0; i < 7; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(results[i] && results[i]->map);
    EXPECT_EQ(results[i]->frame_number, static_cast<guint64>(i));
    EXPECT_EQ(results[i]->carried, carried[i]);
    EXPECT_EQ(results[i]->scored_frame, scored[i]);
    EXPECT_EQ(results[i]->map, results[scored[i]]->map) << "carried frames share the scored frame's map";
  }
  EXPECT_LT(results[1]->map->score, 0.5f) << "frame 1 carries frame 0's clean result";
  EXPECT_GE(results[3]->map->score, 0.5f) << "frame 3 is scored and has a defect";
  gst_harness_teardown(h);
}

TEST_F(GstElements, InferAnswersTheLatencyQueryWithItsScoringTime) {
  GstHarness* h = harness("advadinfer profile=" + P, "RGB");
  gst_harness_set_upstream_latency(h, 5 * GST_MSECOND);
  GstBuffer* out = gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, false, 5), "RGB", 0));
  gst_buffer_unref(out);
  const GstClockTime latency = gst_harness_query_latency(h);
  EXPECT_GT(latency, 5 * GST_MSECOND) << "upstream 5 ms + the element's scoring time";
  EXPECT_LT(latency, 5 * GST_SECOND);
  gst_harness_teardown(h);
}

TEST_F(GstElements, PostprocAttachesDetectionRoisAndPostsAMessage) {
  for (const std::string fmt : {"RGB", "GRAY8", "ABGR"}) {
    SCOPED_TRACE(fmt);
    GstHarness* h = harness("advadinfer profile=" + P + " ! advadpostproc", fmt);
    GstBus* bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    cv::Rect box;
    GstBuffer* in = frame_buffer(make_synthetic_frame(W, H, true, 7, &box), fmt, 3 * GST_SECOND);
    const auto bytes = buffer_bytes(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    EXPECT_EQ(out, in);
    EXPECT_EQ(buffer_bytes(out), bytes);
    AdvadResultPtr r = result_of(out);
    ASSERT_TRUE(r && r->detection);
    EXPECT_TRUE(r->detection->anomalous);
    EXPECT_DOUBLE_EQ(r->threshold, 0.5);  // the demo profile's
    ASSERT_FALSE(r->detection->regions.empty());
    bool hit = false;
    for (const auto& g : r->detection->regions) hit |= (g.box & box).area() > 0;
    EXPECT_TRUE(hit) << "a region overlaps the planted defect";
    EXPECT_EQ(r->detection->mask.size(), cv::Size(W, H));
    auto roi = rois(out);
    ASSERT_EQ(roi.size(), r->detection->regions.size());
    EXPECT_STREQ(g_quark_to_string(roi[0]->roi_type), "defect");
    EXPECT_EQ(static_cast<int>(roi[0]->x), r->detection->regions[0].box.x);
    EXPECT_NE(gst_video_region_of_interest_meta_get_param(roi[0], "advad-region"), nullptr);

    GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT);
    ASSERT_NE(msg, nullptr);
    const GstStructure* s = gst_message_get_structure(msg);
    EXPECT_TRUE(gst_structure_has_name(s, "advad-detection"));
    EXPECT_STREQ(gst_structure_get_string(s, "verdict"), "defect");
    guint64 ts = 0;
    EXPECT_TRUE(gst_structure_get_uint64(s, "timestamp", &ts));
    EXPECT_EQ(ts, 3 * GST_SECOND);
    const GValue* regions = gst_structure_get_value(s, "regions");
    ASSERT_TRUE(regions && GST_VALUE_HOLDS_ARRAY(regions));
    EXPECT_EQ(gst_value_array_get_size(regions), r->detection->regions.size());
    gst_message_unref(msg);
    gst_buffer_unref(out);
    gst_element_set_bus(h->element, nullptr);
    gst_object_unref(bus);
    gst_harness_teardown(h);
  }
}

TEST_F(GstElements, PostprocPropertiesOverrideTheProfile) {
  struct Case {
    std::string props;
    bool anomalous;
  } cases[] = {{"", true}, {"threshold=2.0", false}, {"min-area=100000", false},
               {"close-kernel=5x3 erode-kernel=0 fill-holes=on", true}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.props);
    GstHarness* h = harness("advadinfer profile=" + P + " ! advadpostproc " + c.props, "RGB");
    GstBuffer* out = gst_harness_push_and_pull(h, frame_buffer(make_synthetic_frame(W, H, true, 8), "RGB", 0));
    AdvadResultPtr r = result_of(out);
    ASSERT_TRUE(r && r->detection);
    EXPECT_EQ(r->detection->anomalous, c.anomalous);
    EXPECT_EQ(rois(out).size(), r->detection->regions.size());
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}

TEST_F(GstElements, OverlayDrawsInEveryFormatAndKeepsAlpha) {
  for (const auto& fmt : all_formats()) {
    SCOPED_TRACE(fmt);
    // heatmap-floor=0: the heatmap covers the whole frame (the default leaves normal areas untouched).
    GstHarness* h = harness("advadinfer profile=" + P + " ! advadpostproc ! advadoverlay heatmap-floor=0", fmt);
    GstBuffer* in = frame_buffer(make_synthetic_frame(W, H, true, 9), fmt, 0);
    const auto before = buffer_bytes(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    const auto after = buffer_bytes(out);
    ASSERT_EQ(after.size(), before.size());
    size_t changed = 0;
    for (size_t i = 0; i < after.size(); ++i) changed += after[i] != before[i];
    EXPECT_GT(changed, after.size() / 4) << "the heatmap covers the frame";
    const std::string f = fmt;
    const int alpha = f == "RGBA" || f == "BGRA" ? 3 : (f == "ARGB" || f == "ABGR") ? 0 : -1;
    if (alpha >= 0) {
      for (size_t i = static_cast<size_t>(alpha); i < after.size(); i += 4) ASSERT_EQ(after[i], 255) << i;
    }
    EXPECT_EQ(GST_BUFFER_PTS(out), 0u);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}

TEST_F(GstElements, OverlayMetadataOnlyWritesJsonAndLeavesPixels) {
  TempDir dir;
  const std::string json = dir.file("frames.jsonl");
  GstHarness* h = harness("advadinfer profile=" + P + " ! advadpostproc ! advadoverlay metadata-only=true source=cam1 "
                          "json-location=" + json, "GRAY8");
  for (int i = 0; i < 3; ++i) {
    GstBuffer* in = frame_buffer(make_synthetic_frame(W, H, i == 1, 20 + i), "GRAY8", i * GST_SECOND);
    const auto before = buffer_bytes(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    EXPECT_EQ(buffer_bytes(out), before);
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);  // stop() closes the file
  std::ifstream f(json);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["frame"].get<int>(), n);
    EXPECT_EQ(j["pts"].get<long long>(), static_cast<long long>(n * GST_SECOND));
    EXPECT_EQ(j["source"], "cam1");
    EXPECT_EQ(j["verdict"], n == 1 ? "defect" : "ok");
    EXPECT_EQ(j["regions"].empty(), n != 1);
    ++n;
  }
  EXPECT_EQ(n, 3);
}

TEST_F(GstElements, PropertiesHaveDocumentedDefaultsAndRoundTrip) {
  GstElement* infer = gst_element_factory_make("advadinfer", nullptr);
  GstElement* post = gst_element_factory_make("advadpostproc", nullptr);
  GstElement* over = gst_element_factory_make("advadoverlay", nullptr);
  GstElement* tile = gst_element_factory_make("advadtile", nullptr);
  ASSERT_TRUE(infer && post && over && tile);
  guint interval = 0, batch = 99;
  gchar* device = nullptr;
  gint precision = -1;
  gboolean qos = FALSE;
  g_object_get(infer, "inference-interval", &interval, "batch-size", &batch, "device", &device, "precision",
               &precision, "qos", &qos, nullptr);
  EXPECT_EQ(interval, 1u);
  EXPECT_EQ(batch, 0u);
  EXPECT_STREQ(device, "auto");
  EXPECT_EQ(precision, 3);  // GST_ADVAD_PRECISION_AUTO
  EXPECT_TRUE(qos);
  g_free(device);
  g_object_set(infer, "inference-interval", 5u, "device", "cpu", nullptr);
  g_object_get(infer, "inference-interval", &interval, "device", &device, nullptr);
  EXPECT_EQ(interval, 5u);
  EXPECT_STREQ(device, "cpu");
  g_free(device);

  gdouble threshold = 0;
  gint min_area = 0;
  g_object_get(post, "threshold", &threshold, "min-area", &min_area, nullptr);
  EXPECT_DOUBLE_EQ(threshold, -1.0);
  EXPECT_EQ(min_area, -1);
  gchar* kernel = nullptr;
  g_object_set(post, "close-kernel", "7x3", nullptr);
  g_object_get(post, "close-kernel", &kernel, nullptr);
  EXPECT_STREQ(kernel, "7x3");
  g_free(kernel);

  gdouble opacity = 0;
  guint draw = 0;
  gboolean meta_only = TRUE;
  g_object_get(over, "opacity", &opacity, "draw", &draw, "metadata-only", &meta_only, nullptr);
  EXPECT_DOUBLE_EQ(opacity, -1.0);
  EXPECT_EQ(draw, 0xfu);
  EXPECT_FALSE(meta_only);
  gst_util_set_object_arg(G_OBJECT(over), "colormap", "inferno");
  gst_util_set_object_arg(G_OBJECT(over), "draw", "heatmap+label");
  g_object_get(over, "draw", &draw, nullptr);
  EXPECT_EQ(draw, 0x9u);

  // Every element has a debug category named after it.
  GSList* cats = gst_debug_get_all_categories();
  for (const char* name : {"advadtile", "advadinfer", "advadpostproc", "advadoverlay"}) {
    bool found = false;
    for (GSList* l = cats; l; l = l->next)
      found |= g_strcmp0(gst_debug_category_get_name(static_cast<GstDebugCategory*>(l->data)), name) == 0;
    EXPECT_TRUE(found) << name;
  }
  g_slist_free(cats);
  for (GstElement* e : {infer, post, over, tile}) gst_object_unref(e);
}

}  // namespace
}  // namespace advad::gsttest
