// advadoverlay's JSON lines on a line that restarts: append by default with a
// new run id each start ((run, frame) unique), overwrite on request,
// rotation, category and model on every line, and a file that cannot be
// opened or written is an element ERROR naming it. advadinfer given a
// category profile whose model is a package reads the package's profile.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

class GstJson : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
  TempDir dir;

  std::unique_ptr<BusRun> run(const std::string& overlay_props, int frames = 4, const std::string& profile = "") {
    const std::string d = "videotestsrc num-buffers=" + std::to_string(frames) +
                          " ! video/x-raw,format=RGB,width=96,height=64 ! advadinfer name=infer profile=" +
                          (profile.empty() ? P : profile) + " ! advadpostproc ! advadoverlay " + overlay_props +
                          " ! fakesink";
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(d.c_str(), &err);
    EXPECT_EQ(err, nullptr);
    auto r = std::make_unique<BusRun>();
    run_pipeline(pipeline, r.get(), "advad-detection", 60);
    gst_object_unref(pipeline);
    return r;
  }
};

TEST_F(GstJson, ARestartAppendsWithANewRunIdSoRunAndFrameStayUnique) {
  const std::string json = dir.file("line.jsonl");
  ASSERT_TRUE(run("json-location=" + json)->eos);
  ASSERT_TRUE(run("json-location=" + json)->eos);
  const auto lines = read_json_lines(json);
  ASSERT_EQ(lines.size(), 8u) << "the first run's lines survive the restart";
  std::set<std::pair<std::string, int>> keys;
  std::set<std::string> runs;
  for (const auto& l : lines) {
    keys.insert({l["run"].get<std::string>(), l["frame"].get<int>()});
    runs.insert(l["run"].get<std::string>());
    EXPECT_EQ(l["category"], "demo");
    EXPECT_NE(l["model"].get<std::string>().find("@"), std::string::npos);
  }
  EXPECT_EQ(runs.size(), 2u);
  EXPECT_EQ(keys.size(), 8u) << "(run, frame) is unique across restarts";
  ASSERT_TRUE(run("json-mode=overwrite json-location=" + json, 3)->eos);
  EXPECT_EQ(read_json_lines(json).size(), 3u);
}

TEST_F(GstJson, RotationKeepsTheNewestFiles) {
  const std::string json = dir.file("rot.jsonl");
  ASSERT_TRUE(run("json-max-bytes=1500 json-max-files=2 json-location=" + json, 12)->eos);
  ASSERT_TRUE(std::filesystem::exists(json));
  ASSERT_TRUE(std::filesystem::exists(json + ".1"));
  EXPECT_FALSE(std::filesystem::exists(json + ".2"));
  EXPECT_LE(std::filesystem::file_size(json), 1500u);
  const auto newest = read_json_lines(json);
  ASSERT_FALSE(newest.empty());
  EXPECT_EQ(newest.back()["frame"], 11);
}

TEST_F(GstJson, AMissingFolderIsAnErrorNamingThePath) {
  const std::string json = dir.file("no/such/folder/x.jsonl");
  auto r = run("json-location=" + json);
  ASSERT_NE(r->error, nullptr);
  EXPECT_NE(r->error_text().find(json), std::string::npos) << r->error_text();
  EXPECT_NE(r->error_text().find("does not exist"), std::string::npos) << r->error_text();
}

TEST_F(GstJson, AFullDiskIsAnErrorNamingThePath) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  auto r = run("json-location=/dev/full", 40);
  ASSERT_NE(r->error, nullptr) << "lines to a full disk must not vanish silently";
  EXPECT_NE(r->error_text().find("/dev/full"), std::string::npos) << r->error_text();
}

TEST_F(GstJson, ACategoryProfileWhoseModelIsAPackageUsesThePackagesProfile) {
  // The package's profile.ini holds the calibrated threshold; the category
  // profile pointing at it holds another one.
  DemoOptions o;
  o.threshold = 0.37;
  const std::string package_ini = write_demo_package(dir.file("pkg"), o);
  Profile category = load_profile(package_ini);
  category.model = dir.file("pkg");
  category.threshold = 0.9;
  const std::string cat_ini = dir.file("category.ini");
  save_profile(category, cat_ini);
  auto r = run("json-location=" + dir.file("p.jsonl"), 2, cat_ini);
  ASSERT_TRUE(r->eos) << r->error_text();
  double threshold = 0;
  ASSERT_TRUE(gst_structure_get_double(r->element_messages.at(0), "threshold", &threshold));
  EXPECT_DOUBLE_EQ(threshold, 0.37);
  bool warned = false;
  for (const auto& w : r->warnings) warned |= w.find("package profile") != std::string::npos;
  EXPECT_TRUE(warned) << "the two files' thresholds differ: say which one is used";
}

}  // namespace
}  // namespace advad::gsttest
