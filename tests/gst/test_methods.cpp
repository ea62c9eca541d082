// The elements do not care which method a profile names: packages written by
// `advad train` (INP-Former) and the CPR package writer run in the same
// pipeline as the demo scorer, and the map/score on each buffer equals what
// the core FrameScorer computes for that frame in-process.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/model.h"
#include "core/profile.h"
#include "cpr/model/network.h"
#include "cpr/bank/package.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"
#include "gst/advadmeta.h"
#include "gst_test_util.h"
#include "inpformer/train_loop.h"
#include "inpformer/train_settings.h"

namespace fs = std::filesystem;

namespace advad::gsttest {
namespace {

// A tiny INP-Former package: 3 steps of `advad train`'s loop on generated
// defect-free frames (random frozen encoder), tiled 2x2.
std::string make_inpformer_package(const TempDir& dir) {
  const fs::path data = fs::path(dir.path()) / "normal";
  fs::create_directories(data);
  for (int i = 0; i < 4; ++i) {
    cv::Mat rgb = make_synthetic_frame(128, 96, false, 500 + i), bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    cv::imwrite((data / ("f" + std::to_string(i) + ".png")).string(), bgr);
  }
  const std::string ini = dir.write("inp.ini",
                                    "[profile]\ncategory = inp\nmethod = inpformer\nmodel = inp_pkg\n"
                                    "[input]\nwidth = 56\nheight = 56\n[tiling]\nlevels = 2x2\n"
                                    "[threshold]\ndefault = 0.5\n"
                                    "[inpformer]\nencoder = custom\nembed_dim = 32\ndepth = 2\nheads = 2\n"
                                    "registers = 4\ntaps = 0,1\ngroups = 0;1\ndecoder_blocks = 2\nmap_path = seed\n"
                                    "[train]\ndata = normal\nencoder_weights = random\nbatch = 4\niterations = 3\n"
                                    "warmup = 1\ncheckpoint_every = 0\ngrids = 2x2\n");
  const Profile p = load_profile(ini, false);
  train::RunOptions o;
  return inpformer::run_inpformer_training(p, inpformer::parse_train_settings(p), o).package_profile;
}


// A tiny CPR package (random DenseNet trunk and heads, foreground fitted) from
// generated defect-free frames, tiled 1x1 at 64 px, written by the package writer.
std::string make_cpr_package(const TempDir& dir) {
  const fs::path data = fs::path(dir.path()) / "cpr_train";
  fs::create_directories(data);
  for (int i = 0; i < 4; ++i) {
    cv::Mat rgb = make_synthetic_frame(128, 96, false, 900 + i), bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    cv::imwrite((data / ("f" + std::to_string(i) + ".png")).string(), bgr);
  }
  torch::manual_seed(3);
  cpr::CprNetwork net(32);
  Profile base;
  base.category = "cpr_demo";
  cpr::CprSettings settings;
  settings.k = 2;
  settings.foreground = true;
  cpr::PackageBuildOptions o;
  o.size = 64;
  return cpr::write_cpr_package(*net, data.string(), base, settings, o, (fs::path(dir.path()) / "cpr_pkg").string())
      .profile_path;
}


// Runs frames through the four elements with `profile` and checks every
// buffer's map and score against FrameScorer on the same frame.
void expect_pipeline_matches_core(const std::string& profile, const std::vector<cv::Mat>& frames) {
  const int w = frames[0].cols, h = frames[0].rows;
  GError* err = nullptr;
  const std::string desc = "appsrc name=src format=time caps=" + video_caps("RGB", w, h) +
                           " ! advadtile profile=" + profile + " ! advadinfer profile=" + profile +
                           " ! advadpostproc ! advadoverlay ! appsink name=sink sync=false";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  ASSERT_EQ(err, nullptr) << err->message;
  Collected out;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstAppSinkCallbacks cb{};
  cb.new_sample = &Collected::on_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, &out, nullptr);
  gst_object_unref(sink);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  for (size_t i = 0; i < frames.size(); ++i)
    ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), frame_buffer(frames[i], "RGB", i * GST_SECOND / 10, GST_SECOND / 10)),
              GST_FLOW_OK);
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
  BusRun run;
  run_pipeline(pipeline, &run, "advad-detection", 120);
  gst_object_unref(pipeline);
  ASSERT_FALSE(run.error) << run.error_text();
  ASSERT_TRUE(run.eos) << "timed out";
  ASSERT_EQ(out.samples.size(), frames.size());

  const Profile p = load_profile(profile);
  ModelOptions mo;
  mo.device = "cpu";
  mo.precision = "auto";  // what advadinfer's default precision resolves to (bf16 for INP-Former where native)
  FrameScorer scorer(std::make_shared<Profile>(p), create_model(p, mo), 0);
  const TileLayout layout = make_tile_layout(w, h, p.tiling);
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i);
    AdvadResultPtr r = result_of(gst_sample_get_buffer(out.samples[i]));
    ASSERT_TRUE(r && r->map && r->detection);
    ASSERT_EQ(r->map->map.size(), cv::Size(w, h));
    const AnomalyMap want = scorer.score(frames[i], PixelFormat::RGB, layout);
    EXPECT_TRUE(std::isfinite(r->map->score));
    EXPECT_NEAR(r->map->score, want.score, 1e-5 * (1 + std::abs(want.score)));
    EXPECT_LE(cv::norm(r->map->map, want.map, cv::NORM_INF), 1e-5);
    // One scale: the score next to the threshold is the map's maximum; the
    // method's own image score travels apart.
    double map_max = 0;
    cv::minMaxLoc(r->map->map, nullptr, &map_max);
    EXPECT_NEAR(r->detection->score, map_max, 1e-6);
    EXPECT_NEAR(r->detection->image_score, want.score, 1e-5 * (1 + std::abs(want.score)));
    if (r->detection->anomalous) {
      EXPECT_GE(r->detection->score, r->threshold);
    }
    double msg_score = -1, msg_image = -1;
    ASSERT_TRUE(gst_structure_get_double(run.element_messages[i], "score", &msg_score));
    ASSERT_TRUE(gst_structure_get_double(run.element_messages[i], "image-score", &msg_image));
    EXPECT_NEAR(msg_score, map_max, 1e-6);
    EXPECT_NEAR(msg_image, want.score, 1e-5 * (1 + std::abs(want.score)));
  }
}

class GstMethods : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  TempDir dir;
};

TEST_F(GstMethods, InpFormerPackageFromAdvadTrainRunsInThePipeline) {
  const std::string profile = make_inpformer_package(dir);
  ASSERT_FALSE(profile.empty());
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 3; ++i) frames.push_back(make_synthetic_frame(128, 96, i == 1, 700 + i));
  expect_pipeline_matches_core(profile, frames);
}

TEST_F(GstMethods, CprPackageRunsInTheSamePipeline) {
  const std::string profile = make_cpr_package(dir);
  ASSERT_FALSE(profile.empty());
  EXPECT_EQ(load_profile(profile).method, "cpr");
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 3; ++i) frames.push_back(make_synthetic_frame(128, 96, i == 1, 800 + i));
  expect_pipeline_matches_core(profile, frames);
}

}  // namespace
}  // namespace advad::gsttest
