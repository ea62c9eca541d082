// advadclip: defect clips with pre-roll. 100 frames at 10 fps (160x120) with
// defects at known frames through advaddetect ! advadclip ! advadoverlay
// (JSON lines downstream): the clips exist, decode, hold their defect frames,
// last about pre + post (overlapping defects: one clip), and the defect
// frames' JSON lines name them. Bad settings are ERRORs that name the cause.
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

constexpr int W = 160, H = 120, FRAMES = 100;
constexpr GstClockTime FRAME = GST_SECOND / 10;

class GstClip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
  TempDir dir;
};

// Decodes a clip (qtdemux ! h264parse ! avdec_h264) and returns its frame count (-1: did not decode).
int decoded_frames(const std::string& file) {
  GstElement* p =
      launch("filesrc location=\"" + file + "\" ! qtdemux ! h264parse ! avdec_h264 ! appsink name=sink sync=false");
  Collected out;
  attach_sink(p, &out);
  BusRun run;
  run_pipeline(p, &run, "none", 30);
  gst_object_unref(p);
  return run.eos ? static_cast<int>(out.samples.size()) : -1;
}

void expect_error(GstElement* pipeline, const std::vector<std::string>& words) {
  BusRun run;
  run_pipeline(pipeline, &run, "none", 30);
  ASSERT_NE(run.error, nullptr) << "no ERROR";
  const std::string text = run.error_text();
  for (const auto& w : words) EXPECT_NE(text.find(w), std::string::npos) << "'" << w << "' not in: " << text;
}

TEST_F(GstClip, DefectsMakePlayableClipsOfPrePlusPostNamedInTheJsonLines) {
  const std::set<int> defects{15, 50, 56, 85};  // 50 and 56 overlap (56 < 50 + post): one clip
  const double pre = 1.0, post = 1.0;
  const std::string clips = dir.file("clips"), json = dir.file("out.jsonl");
  std::filesystem::create_directory(clips);
  GstElement* pipeline = launch("appsrc name=src format=time caps=" + video_caps("RGB", W, H) +
                                " ! advaddetect overlay=false threads=2 profile=" + P +
                                " ! advadclip location=" + clips + " pre=1 post=1 source=cam-1"
                                " ! advadoverlay metadata-only=true json-location=" + json + " ! fakesink sync=false");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  for (int i = 0; i < FRAMES; ++i)
    gst_app_src_push_buffer(GST_APP_SRC(src), frame_buffer(make_synthetic_frame(W, H, defects.count(i) > 0, 70 + i),
                                                           "RGB", i * FRAME, FRAME));
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
  BusRun run;
  run_pipeline(pipeline, &run, "advad-clip", 60);
  gst_object_unref(pipeline);
  ASSERT_TRUE(run.eos) << run.error_text();
  EXPECT_TRUE(run.warnings.empty()) << run.warnings.front();

  // The premise: the detector flags exactly those frames.
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), static_cast<size_t>(FRAMES));
  for (int i = 0; i < FRAMES; ++i)
    ASSERT_EQ(lines[i]["verdict"], defects.count(i) ? "defect" : "ok") << "frame " << i;

  // One advad-clip message per clip, posted before EOS; the files exist.
  ASSERT_EQ(run.element_messages.size(), 3u) << "15 | 50+56 | 85";
  const std::vector<std::vector<int>> groups{{15}, {50, 56}, {85}};
  std::map<int, std::string> clip_of_frame;
  for (size_t k = 0; k < 3; ++k) {
    const GstStructure* m = run.element_messages[k];
    const std::string file = gst_structure_get_string(m, "file");
    guint64 first = 0, last = 0, duration = 0, frames = 0, trigger = 0;
    ASSERT_TRUE(gst_structure_get_uint64(m, "first-pts", &first) && gst_structure_get_uint64(m, "last-pts", &last) &&
                gst_structure_get_uint64(m, "duration", &duration) && gst_structure_get_uint64(m, "frames", &frames) &&
                gst_structure_get_uint64(m, "trigger-frame", &trigger));
    const GValue* dv = gst_structure_get_value(m, "defect-frames");
    ASSERT_NE(dv, nullptr);
    std::vector<int> defect_frames;
    for (guint j = 0; j < gst_value_array_get_size(dv); ++j)
      defect_frames.push_back(static_cast<int>(g_value_get_uint64(gst_value_array_get_value(dv, j))));
    EXPECT_EQ(defect_frames, groups[k]) << file;
    EXPECT_EQ(trigger, static_cast<guint64>(groups[k].front()));
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_EQ(std::filesystem::path(file).parent_path(), std::filesystem::path(clips));
    const std::regex name("cam-1_\\d{8}T\\d{6}Z-[0-9a-f]{6}_f" + std::to_string(groups[k].front()) +
                          "_\\d{8}T\\d{6}\\.\\d{3}Z\\.mp4");
    EXPECT_TRUE(std::regex_match(std::filesystem::path(file).filename().string(), name)) << file;

    // It decodes, with every frame the message counts.
    const int decoded = decoded_frames(file);
    EXPECT_EQ(decoded, static_cast<int>(frames)) << file;
    // It holds its defect frames.
    for (int f : groups[k]) {
      EXPECT_LE(first, f * FRAME) << file;
      EXPECT_GE(last, f * FRAME) << file;
    }
    // Duration: pre + post (+ the defects' spread), starting at the last keyframe at or before
    // defect - pre, so up to one keyframe interval (1 s) longer; shorter post only at EOS (not here).
    const double want = pre + post + (groups[k].back() - groups[k].front()) * 0.1;
    const double got = decoded * 0.1;
    EXPECT_GE(got, want - 1e-6) << file;
    EXPECT_LE(got, want + 1.0 + 1e-6) << file;
    EXPECT_EQ(duration, frames * FRAME) << file;
    for (int f : groups[k]) clip_of_frame[f] = file;
    std::printf("clip %s: frames %d, %.1f s (pre + post + spread %.1f s), pts %.1f..%.1f s\n",
                std::filesystem::path(file).filename().c_str(), decoded, got, want, first / 1e9, last / 1e9);
  }
  // No other files.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(clips)) files += e.path().extension() == ".mp4";
  EXPECT_EQ(files, 3u);

  // The JSON line of each defect frame names its clip; other lines have no clip.
  for (int i = 0; i < FRAMES; ++i) {
    if (defects.count(i)) {
      ASSERT_TRUE(lines[i].contains("clip")) << "frame " << i;
      EXPECT_EQ(lines[i]["clip"], clip_of_frame[i]) << "frame " << i;
      // One run id for the pipeline: advadinfer's, in the JSON line and the clip's name.
      const std::string run_id = lines[i]["run"];
      EXPECT_NE(lines[i]["clip"].get<std::string>().find("_" + run_id + "_f"), std::string::npos)
          << "clip " << lines[i]["clip"] << " does not carry the run " << run_id;
    } else {
      EXPECT_FALSE(lines[i].contains("clip")) << "frame " << i;
    }
  }
}

// 4:2:0 H.264 needs even sides: a 161x121 stream passes whole, its clip is 160x120 and plays.
TEST_F(GstClip, OddFrameSizesStillMakePlayableClips) {
  const std::string clips = dir.file("clips");
  std::filesystem::create_directory(clips);
  GstElement* pipeline = launch("videotestsrc num-buffers=20 ! video/x-raw,format=RGB,width=161,height=121,"
                                "framerate=10/1 ! advaddetect overlay=false threads=2 threshold=0 profile=" + P +
                                " ! advadclip location=" + clips + " pre=0.5 post=0.5"
                                " ! appsink name=sink sync=false");
  Collected out;
  attach_sink(pipeline, &out);
  BusRun run;
  run_pipeline(pipeline, &run, "none", 30);
  gst_object_unref(pipeline);
  ASSERT_TRUE(run.eos) << run.error_text();
  EXPECT_EQ(out.samples.size(), 20u) << "every frame passes";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(clips)) files.push_back(e.path().string());
  ASSERT_EQ(files.size(), 1u) << "threshold 0: every frame a defect, one clip";
  EXPECT_EQ(decoded_frames(files[0]), 20);
}

// A model that returns NaN: every frame is unscored, so no frame is a defect;
// advadclip writes no clip, advadpublish's lines say "unscored", nothing fails.
TEST_F(GstClip, AModelReturningNanMakesNoClipsAndUnscoredLines) {
  FaultyOptions nan;
  nan.fault = "nan";
  const std::string profile = write_faulty_package(dir.file("nan"), nan);
  const std::string clips = dir.file("clips"), json = dir.file("nan.jsonl");
  std::filesystem::create_directory(clips);
  GstElement* pipeline = launch("videotestsrc num-buffers=10 pattern=white ! video/x-raw,format=RGB,width=96,height=64,"
                                "framerate=10/1 ! advaddetect overlay=false threads=2 max-unscored=0 profile=" +
                                profile + " ! advadclip location=" + clips +
                                " pre=0.5 post=0.5 ! advadpublish method=file location=" + json + " ! fakesink");
  BusRun run;
  run_pipeline(pipeline, &run, "none", 30);
  gst_object_unref(pipeline);
  ASSERT_TRUE(run.eos) << run.error_text();
  EXPECT_TRUE(std::filesystem::is_empty(clips)) << "no defect, no clip";
  std::ifstream in(json);
  int lines = 0;
  for (std::string l; std::getline(in, l); ++lines) {
    const auto j = nlohmann::json::parse(l);
    EXPECT_EQ(j["verdict"], "unscored") << l;
    EXPECT_FALSE(j.contains("clip")) << l;
  }
  EXPECT_EQ(lines, 10);
}

TEST_F(GstClip, AMissingFolderIsAnErrorNamingIt) {
  const std::string missing = dir.file("no such folder");
  GstElement* p = launch("videotestsrc num-buffers=3 ! advadclip name=c ! fakesink");
  GstElement* c = gst_bin_get_by_name(GST_BIN(p), "c");
  g_object_set(c, "location", missing.c_str(), nullptr);
  gst_object_unref(c);
  expect_error(p, {"advadclip", missing, "location"});
  gst_object_unref(p);
}

TEST_F(GstClip, NoLocationIsAnError) {
  GstElement* p = launch("videotestsrc num-buffers=3 ! advadclip ! fakesink");
  expect_error(p, {"advadclip", "location"});
  gst_object_unref(p);
}

TEST_F(GstClip, NonFiniteOrOutOfRangeSecondsAreErrorsNamingTheProperty) {
  for (const auto& [prop, value, text] : std::vector<std::tuple<std::string, double, std::string>>{
           {"pre", NAN, "'nan'"}, {"post", -1.0, "'-1'"}, {"max-duration", INFINITY, "'inf'"}, {"pre", 601, "'601'"}}) {
    GstElement* p = launch("videotestsrc num-buffers=3 ! advadclip name=c location=" + dir.str() + " ! fakesink");
    GstElement* c = gst_bin_get_by_name(GST_BIN(p), "c");
    g_object_set(c, prop.c_str(), value, nullptr);
    double kept = 0;
    g_object_get(c, prop.c_str(), &kept, nullptr);
    EXPECT_TRUE(std::isfinite(kept) && kept >= 0) << prop << ": the bad value is not taken";
    gst_object_unref(c);
    SCOPED_TRACE(prop + " = " + text);
    expect_error(p, {"advadclip", "property " + prop, text, "finite seconds"});
    gst_object_unref(p);
  }
}

}  // namespace
}  // namespace advad::gsttest
