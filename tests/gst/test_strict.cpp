// Strict property values (issue 11, item 1) and the overlay's heatmap floor
// (item 7): every value the elements cannot use is an ERROR naming the
// element, the property, the value and what is accepted -- at READY->PAUSED
// for values set before, at once for values set while running, on the first
// frame for a split checked against the profile that comes with the frames.
#include <gst/app/gstappsink.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/profile.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

const char* kSource = "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=64,height=48";

class GstStrict : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  TempDir dir;

  // The demo package's profile with two splits: a threshold for
  // test_private and a post-processing group for mixed.
  std::string split_profile() {
    Profile p = load_profile(demo_profile_path());
    p.split_thresholds["test_private"] = 0.4;
    p.split_post["mixed"] = p.post;
    const std::string path = dir.file("splits.ini");
    save_profile(p, path);
    return path;
  }

  // Parses `source ! chain ! fakesink`, runs it to EOS or ERROR.
  std::unique_ptr<BusRun> run(const std::string& chain, const std::string& source = kSource) {
    const std::string description = source + " ! " + chain + " ! fakesink";
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
    EXPECT_EQ(err, nullptr) << (err ? err->message : "");
    auto r = std::make_unique<BusRun>();
    if (!pipeline) return r;
    run_pipeline(pipeline, r.get(), "advad-detection", 30);
    gst_object_unref(pipeline);
    return r;
  }

  // Expects an ERROR of domain RESOURCE whose text holds every piece, and no
  // advad-detection message before it (it came before any frame was decided).
  void expect_error(const std::string& chain, const std::vector<std::string>& pieces, bool before_frames = true) {
    SCOPED_TRACE(chain);
    auto r = run(chain);
    ASSERT_FALSE(r->timed_out);
    ASSERT_NE(r->error, nullptr) << "no ERROR; the pipeline ran with the bad value";
    GError* e = nullptr;
    gst_message_parse_error(r->error, &e, nullptr);
    EXPECT_EQ(e->domain, GST_RESOURCE_ERROR) << e->message;
    g_error_free(e);
    const std::string text = r->error_text();
    for (const auto& p : pieces) EXPECT_NE(text.find(p), std::string::npos) << "'" << p << "' not in: " << text;
    if (before_frames) {
      EXPECT_TRUE(r->element_messages.empty()) << "frames were decided with the bad value";
    }
  }

  std::string infer() const { return "advadinfer profile=" + demo_profile_path(); }
};

// --- advadpostproc split ---------------------------------------------------

TEST_F(GstStrict, SplitTypoAgainstOwnProfileFailsAtStartListingTheSplits) {
  const std::string prof = split_profile();
  expect_error(infer() + " ! advadpostproc profile=" + prof + " split=test_privat",
               {"advadpostproc", "split", "'test_privat'", "mixed, test_private", prof});
}

TEST_F(GstStrict, SplitTypoAgainstTheFramesProfileFailsOnTheFirstFrame) {
  const std::string prof = split_profile();
  expect_error("advadinfer profile=" + prof + " ! advadpostproc split=test_privat",
               {"advadpostproc", "split", "'test_privat'", "mixed, test_private", prof});
}

TEST_F(GstStrict, SplitOnAProfileWithoutSplitsSaysItDefinesNone) {
  expect_error(infer() + " ! advadpostproc split=test_private",
               {"advadpostproc", "'test_private'", "defines no splits"});
}

TEST_F(GstStrict, DefinedSplitsRunWithTheirThreshold) {
  const std::string prof = split_profile();
  for (const char* split : {"test_private", "mixed", ""}) {
    SCOPED_TRACE(split);
    auto r = run("advadinfer profile=" + prof + " ! advadpostproc split=\"" + std::string(split) + "\"");
    ASSERT_EQ(r->error, nullptr) << r->error_text();
    EXPECT_TRUE(r->eos);
    ASSERT_EQ(r->element_messages.size(), 3u);
    double t = 0;
    ASSERT_TRUE(gst_structure_get_double(r->element_messages[0], "threshold", &t));
    EXPECT_DOUBLE_EQ(t, load_profile(prof).threshold_for(split));
  }
}

TEST_F(GstStrict, SplitChangedToATypoWhileRunningIsAnError) {
  const std::string prof = split_profile();
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      ("videotestsrc num-buffers=30 ! video/x-raw,format=RGB,width=64,height=48 ! advadinfer profile=" + prof +
       " ! advadpostproc name=pp split=test_private ! fakesink")
          .c_str(),
      &err);
  ASSERT_EQ(err, nullptr);
  GstElement* pp = gst_bin_get_by_name(GST_BIN(pipeline), "pp");
  BusRun r;
  bool changed = false;
  run_pipeline(pipeline, &r, "advad-detection", 30, [&](GstMessage* m) {
    if (!changed && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
      g_object_set(pp, "split", "test_privat", nullptr);
      changed = true;
    }
  });
  gst_object_unref(pp);
  gst_object_unref(pipeline);
  ASSERT_TRUE(changed);
  ASSERT_NE(r.error, nullptr) << "the typo was taken while running";
  EXPECT_NE(r.error_text().find("'test_privat'"), std::string::npos) << r.error_text();
  EXPECT_LT(r.element_messages.size(), 30u);
}

// --- advadpostproc kernels and threshold ------------------------------------

TEST_F(GstStrict, CloseKernelAbcIsAnErrorNamingPropertyValueAndForms) {
  expect_error(infer() + " ! advadpostproc close-kernel=abc",
               {"advadpostproc", "close-kernel", "'abc'", "WxH", "empty for the profile"});
}

TEST_F(GstStrict, CloseKernelZeroSideIsAnError) {
  expect_error(infer() + " ! advadpostproc close-kernel=3x0", {"close-kernel", "'3x0'"});
}

TEST_F(GstStrict, CloseKernelTooLargeIsAnError) {
  expect_error(infer() + " ! advadpostproc close-kernel=2000", {"close-kernel", "'2000'", "1..1000"});
}

TEST_F(GstStrict, ErodeKernelWithTrailingJunkIsAnError) {
  expect_error(infer() + " ! advadpostproc erode-kernel=5x5x5", {"erode-kernel", "'5x5x5'"});
}

TEST_F(GstStrict, ErodeKernelNegativeIsAnError) {
  expect_error(infer() + " ! advadpostproc erode-kernel=-3", {"erode-kernel", "'-3'"});
}

TEST_F(GstStrict, NegativeThresholdOtherThanMinusOneIsAnError) {
  expect_error(infer() + " ! advadpostproc threshold=-0.5",
               {"advadpostproc", "threshold", "'-0.5'", "exactly -1"});
}

TEST_F(GstStrict, NanThresholdIsAnError) {
  expect_error(infer() + " ! advadpostproc threshold=nan", {"threshold", "'nan'"});
}

// Out of the documented range: an element ERROR, not a GLib warning that keeps the default.
TEST_F(GstStrict, ThresholdBelowMinusOneIsAnError) {
  expect_error(infer() + " ! advadpostproc threshold=-5", {"advadpostproc", "threshold", "'-5'", "exactly -1"});
}

TEST_F(GstStrict, InfiniteThresholdIsAnError) {
  expect_error(infer() + " ! advadpostproc threshold=inf", {"threshold", "'inf'", "finite"});
}

TEST_F(GstStrict, MinAreaBelowMinusOneIsAnError) {
  expect_error(infer() + " ! advadpostproc min-area=-7", {"advadpostproc", "min-area", "'-7'", "exactly -1"});
}

TEST_F(GstStrict, SeveralBadValuesAreNamedInOneError) {
  expect_error(infer() + " ! advadpostproc close-kernel=abc threshold=-0.5",
               {"2 property values", "close-kernel = 'abc'", "threshold = '-0.5'"});
}

TEST_F(GstStrict, ThresholdMinusOneAndValidKernelsRun) {
  auto r = run(infer() + " ! advadpostproc threshold=-1 close-kernel=5 erode-kernel=off");
  ASSERT_EQ(r->error, nullptr) << r->error_text();
  EXPECT_EQ(r->element_messages.size(), 3u);
}

TEST_F(GstStrict, RejectedValueKeepsThePreviousOneAndAValidValueClearsIt) {
  GstElement* pp = gst_element_factory_make("advadpostproc", nullptr);
  ASSERT_NE(pp, nullptr);
  g_object_set(pp, "close-kernel", "7x3", nullptr);
  g_object_set(pp, "close-kernel", "abc", nullptr);
  g_object_set(pp, "threshold", -0.5, nullptr);
  gchar* kernel = nullptr;
  double threshold = 0;
  g_object_get(pp, "close-kernel", &kernel, "threshold", &threshold, nullptr);
  EXPECT_STREQ(kernel, "7x3");
  EXPECT_EQ(threshold, -1.0);
  g_free(kernel);
  gst_object_unref(pp);

  // Fixed before the start: the pipeline runs.
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      (std::string(kSource) + " ! " + infer() + " ! advadpostproc name=pp close-kernel=abc threshold=-0.5 ! fakesink")
          .c_str(),
      &err);
  ASSERT_EQ(err, nullptr);
  pp = gst_bin_get_by_name(GST_BIN(pipeline), "pp");
  g_object_set(pp, "close-kernel", "3", "threshold", 0.25, nullptr);
  gst_object_unref(pp);
  BusRun r;
  run_pipeline(pipeline, &r, "advad-detection", 30);
  gst_object_unref(pipeline);
  ASSERT_EQ(r.error, nullptr) << r.error_text();
  EXPECT_EQ(r.element_messages.size(), 3u);
}

TEST_F(GstStrict, BadKernelSetWhileRunningIsAnErrorAtOnce) {
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(("videotestsrc num-buffers=30 ! video/x-raw,format=RGB,width=64,height=48 ! " +
                                           infer() + " ! advadpostproc name=pp ! fakesink")
                                              .c_str(),
                                          &err);
  ASSERT_EQ(err, nullptr);
  GstElement* pp = gst_bin_get_by_name(GST_BIN(pipeline), "pp");
  BusRun r;
  bool changed = false;
  run_pipeline(pipeline, &r, "advad-detection", 30, [&](GstMessage* m) {
    if (!changed && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
      g_object_set(pp, "erode-kernel", "big", nullptr);
      changed = true;
    }
  });
  gst_object_unref(pp);
  gst_object_unref(pipeline);
  ASSERT_TRUE(changed);
  ASSERT_NE(r.error, nullptr);
  EXPECT_NE(r.error_text().find("erode-kernel"), std::string::npos) << r.error_text();
  EXPECT_NE(r.error_text().find("'big'"), std::string::npos) << r.error_text();
}

// Enum and flags values are checked by GStreamer when the line is parsed.
TEST_F(GstStrict, BadEnumValuesFailAtParseTime) {
  for (const char* chain : {"advadpostproc fill-holes=maybe", "advadoverlay colormap=rainbowz",
                            "advadoverlay draw=heatmap+sparkles"}) {
    SCOPED_TRACE(chain);
    GError* err = nullptr;
    GstElement* p = gst_parse_launch((std::string(kSource) + " ! " + chain + " ! fakesink").c_str(), &err);
    ASSERT_NE(err, nullptr) << "parsed";
    EXPECT_NE(std::string(err->message).find("property"), std::string::npos) << err->message;
    g_error_free(err);
    if (p) gst_object_unref(p);
  }
}

// --- advadoverlay -----------------------------------------------------------

// --- advadinfer ------------------------------------------------------------

// gst-launch-1.0 parses "-1" for an unsigned property as the type's maximum. Where
// that maximum is inside the property's range the element cannot tell it from a
// typed value and takes it silently (fuzz cases gst/008, 013, 054, 101, 142). So
// every writable unsigned property of every advad element either ends its range
// below the type's maximum (GLib refuses "-1" and names the property) or is
// G_PARAM_LAX_VALIDATION, where the element checks the value itself (as
// InferIntervalZeroIsAnError shows for inference-interval=-1).
TEST_F(GstStrict, NoUnsignedPropertyTakesMinusOneAsItsMaximum) {
  int checked = 0;
  for (const char* name : {"advadtile", "advadinfer", "advadpostproc", "advadoverlay", "advaddetect", "advadclip",
                           "advadpublish"}) {
    SCOPED_TRACE(name);
    GstElementFactory* f = gst_element_factory_find(name);
    ASSERT_NE(f, nullptr);
    GstElement* e = gst_element_factory_create(f, nullptr);
    ASSERT_NE(e, nullptr);
    guint n = 0;
    GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(e), &n);
    for (guint i = 0; i < n; ++i) {
      GParamSpec* ps = specs[i];
      if (!(ps->flags & G_PARAM_WRITABLE) || (ps->flags & G_PARAM_LAX_VALIDATION)) continue;
      if (G_IS_PARAM_SPEC_UINT(ps)) {
        EXPECT_LT(G_PARAM_SPEC_UINT(ps)->maximum, G_MAXUINT) << name << "." << ps->name;
        ++checked;
      } else if (G_IS_PARAM_SPEC_UINT64(ps)) {
        EXPECT_LT(G_PARAM_SPEC_UINT64(ps)->maximum, G_MAXUINT64) << name << "." << ps->name;
        ++checked;
      } else if (G_IS_PARAM_SPEC_ULONG(ps)) {
        EXPECT_LT(G_PARAM_SPEC_ULONG(ps)->maximum, G_MAXULONG) << name << "." << ps->name;
        ++checked;
      }
    }
    g_free(specs);
    gst_object_unref(e);
    gst_object_unref(f);
  }
  EXPECT_GE(checked, 5);  // the five that failed, at least
}

// And on the line: "-1" is refused by name, the pipeline keeps the default.
TEST_F(GstStrict, MinusOneForAnUnsignedCountIsRefusedByName) {
  GstElement* e = gst_element_factory_make("advadinfer", nullptr);
  ASSERT_NE(e, nullptr);
  guint before = 0;
  g_object_get(e, "max-unscored", &before, nullptr);
  // What gst-launch-1.0 does with "max-unscored=-1": GLib refuses the
  // value (a warning naming the property) and the old value stays.
  std::string warnings;
  const guint handler = g_log_set_handler(
      "GLib-GObject", G_LOG_LEVEL_WARNING,
      [](const gchar*, GLogLevelFlags, const gchar* message, gpointer text) {
        *static_cast<std::string*>(text) += message;
      },
      &warnings);
  gst_util_set_object_arg(G_OBJECT(e), "max-unscored", "-1");
  g_log_remove_handler("GLib-GObject", handler);
  EXPECT_NE(warnings.find("max-unscored"), std::string::npos) << warnings;
  guint after = 0;
  g_object_get(e, "max-unscored", &after, nullptr);
  EXPECT_EQ(after, before);
  gst_object_unref(e);
}

TEST_F(GstStrict, InferDeviceTypoIsAnError) {
  expect_error("advadinfer device=cdua profile=" + demo_profile_path(),
               {"advadinfer", "device", "'cdua'", "auto, cpu, cuda or cuda:N"});
  expect_error("advadinfer device=cuda:x profile=" + demo_profile_path(), {"device", "'cuda:x'"});
}

TEST_F(GstStrict, InferIntervalZeroIsAnError) {
  expect_error(infer() + " inference-interval=0", {"advadinfer", "inference-interval", "'0'", "1 (every frame)"});
  // gst-launch-1.0 reads "-1" as the unsigned maximum: refused, not taken as a huge interval.
  expect_error(infer() + " inference-interval=-1", {"inference-interval", "'4294967295'", "2147483647"});
}

TEST_F(GstStrict, InferBatchSizeAndThreadsOutOfRangeAreErrors) {
  expect_error(infer() + " batch-size=5000", {"batch-size", "'5000'", "4096"});
  expect_error(infer() + " threads=2000", {"threads", "'2000'", "1024"});
}

TEST_F(GstStrict, InferCudaMemoryLimitOutOfRangeIsAnError) {
  expect_error(infer() + " cuda-memory-limit=1.5", {"advadinfer", "cuda-memory-limit", "'1.5'", "(0, 1]", "1 MiB"});
  expect_error(infer() + " cuda-memory-limit=12Q", {"cuda-memory-limit", "'12Q'", "6G"});
  expect_error("advaddetect cuda-memory-limit=100 profile=" + demo_profile_path(), {"cuda-memory-limit", "'100'"});
  // A valid limit on the CPU is ignored (an INFO line) and the frames flow.
  for (const char* ok : {"0.5", "6G", "0"}) {
    auto r = run(infer() + " cuda-memory-limit=" + ok);
    EXPECT_FALSE(r->timed_out) << ok;
    EXPECT_EQ(r->error, nullptr) << ok << ": " << r->error_text();
  }
}

TEST_F(GstStrict, InferStatsIntervalNanOrNegativeIsAnError) {
  expect_error(infer() + " stats-interval=nan", {"stats-interval", "'nan'", "86400"});
  expect_error(infer() + " stats-interval=-1", {"stats-interval", "'-1'"});
}

TEST_F(GstStrict, NegativeOpacityOtherThanMinusOneIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay opacity=-0.5",
               {"advadoverlay", "opacity", "'-0.5'", "exactly -1"});
}

TEST_F(GstStrict, OpacityAboveOneIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay opacity=1.5", {"advadoverlay", "opacity", "'1.5'", "0..1"});
}

TEST_F(GstStrict, NegativeHeatmapMaxIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay heatmap-max=-1", {"heatmap-max", "'-1'", ">= 0"});
}

TEST_F(GstStrict, NanOpacityIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay opacity=nan", {"advadoverlay", "opacity", "'nan'"});
}

TEST_F(GstStrict, NanHeatmapMaxIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay heatmap-max=nan", {"advadoverlay", "heatmap-max", "'nan'"});
}

TEST_F(GstStrict, NegativeHeatmapFloorOtherThanMinusOneIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay heatmap-floor=-0.25",
               {"advadoverlay", "heatmap-floor", "'-0.25'", "exactly -1"});
}

TEST_F(GstStrict, NanHeatmapFloorIsAnError) {
  expect_error(infer() + " ! advadpostproc ! advadoverlay heatmap-floor=nan", {"heatmap-floor", "'nan'"});
}

// How many bytes of the (one) frame advadoverlay changed, drawing the heatmap only.
int changed_bytes(const std::string& infer_chain, const std::string& overlay_props) {
  const std::string head = "videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,format=RGB,width=96,height=64 ! " +
                           infer_chain + " ! advadpostproc ! ";
  std::vector<guint8> frames[2];
  for (int i = 0; i < 2; ++i) {
    const std::string desc = head + (i == 0 ? std::string("advadoverlay metadata-only=true")
                                            : "advadoverlay draw=heatmap opacity=1 " + overlay_props) +
                             " ! appsink name=out sync=false";
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
    EXPECT_EQ(err, nullptr) << desc;
    if (!pipeline) return -1;
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
    Collected got;
    GstAppSinkCallbacks cb{};
    cb.new_sample = &Collected::on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, &got, nullptr);
    BusRun r;
    run_pipeline(pipeline, &r, nullptr, 30);
    EXPECT_EQ(r.error, nullptr) << desc << ": " << r.error_text();
    EXPECT_EQ(got.samples.size(), 1u) << desc;
    if (!got.samples.empty()) frames[i] = buffer_bytes(gst_sample_get_buffer(got.samples[0]));
    gst_object_unref(sink);
    gst_object_unref(pipeline);
  }
  if (frames[0].size() != frames[1].size() || frames[0].empty()) return -1;
  int n = 0;
  for (size_t i = 0; i < frames[0].size(); ++i) n += frames[0][i] != frames[1][i];
  return n;
}

TEST_F(GstStrict, HeatmapFloorPropertyDecidesWhereTheHeatmapIsDrawn) {
  const int everywhere = changed_bytes(infer(), "heatmap-floor=0");
  const int nowhere = changed_bytes(infer(), "heatmap-floor=1e30");
  EXPECT_GT(everywhere, 96 * 64) << "floor 0 tints the frame";
  EXPECT_EQ(nowhere, 0) << "a floor above every score leaves the camera image";
  const int by_default = changed_bytes(infer(), "");
  EXPECT_GE(by_default, 0);
  EXPECT_LE(by_default, everywhere) << "the default floor (half the threshold) draws no more than floor 0";
}

TEST_F(GstStrict, HeatmapFloorFromTheProfileOverlayGroup) {
  Profile p = load_profile(demo_profile_path());
  p.overlay.heatmap_floor = 1e6;
  const std::string high = dir.file("floor.ini");
  save_profile(p, high);
  EXPECT_EQ(changed_bytes("advadinfer profile=" + high, ""), 0) << "the profile's floor";
  EXPECT_GT(changed_bytes("advadinfer profile=" + high, "heatmap-floor=0"), 96 * 64) << "the property wins";
}

}  // namespace
}  // namespace advad::gsttest
