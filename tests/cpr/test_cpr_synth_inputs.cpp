// CPR pseudo-anomaly synthesis, the inputs: the [train] synthesis keys, the
// source loader (textures, defect-patch libraries) and `advad synth` through
// the real executable. The generators are in test_cpr_synth_generators.cpp
// (the same test executable).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "cpr_synth_helpers.h"
#include "test_support.h"
#include "core/error.h"
#include "core/profile.h"
#include "cpr/synth/perlin_noise.h"
#include "cpr/synth/synth.h"
#include "cpr/synth/internal.h"

using namespace advad;
using namespace advad::cpr;
using namespace cprsynth;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  auto d = advad::test::test_tmp_dir("synth") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

using advad::test::CliRun;
CliRun run_advad(const std::string& args) { return advad::test::advad_cli(args); }

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

// ---------------------------------------------------------------- settings

namespace {
Profile train_profile(const std::map<std::string, std::string>& train) {
  Profile p;
  p.path = "/cats/jelly/jelly.ini";
  p.method = "cpr";
  p.method_groups["train"] = train;
  return p;
}
}  // namespace

TEST(CprSynthSettings, ParsesKeysAndResolvesFolders) {
  Profile p = train_profile({{"synth", "both"},
                             {"synth_size", "320"},
                             {"anomaly_ratio", "0.8"},
                             {"textures", "../dtd"},
                             {"defects", "patches"},
                             {"defect_scales", "hair:0.05-0.2, screw:0.05-0.1,*:0.2-0.9"},
                             {"epochs", "3"}});  // another [train] key: not ours
  p.method_groups["cpr"]["foreground"] = "on";
  const SynthSettings s = parse_synth_settings(p);
  EXPECT_EQ(s.mode, SynthMode::Both);
  EXPECT_EQ(s.size, 320);
  EXPECT_DOUBLE_EQ(s.anomaly_ratio, 0.8);
  EXPECT_TRUE(s.object);
  EXPECT_EQ(s.textures, "/cats/dtd");
  EXPECT_EQ(s.defects, "/cats/jelly/patches");
  ASSERT_EQ(s.defect_scales.size(), 2u);
  EXPECT_DOUBLE_EQ(s.defect_scales.at("hair").first, 0.05);
  EXPECT_DOUBLE_EQ(s.defect_scales.at("screw").second, 0.1);
  EXPECT_DOUBLE_EQ(s.default_scale.first, 0.2);
  EXPECT_DOUBLE_EQ(s.default_scale.second, 0.9);

  const SynthSettings d = parse_synth_settings(train_profile({}));
  EXPECT_EQ(d.mode, SynthMode::Perlin);
  EXPECT_EQ(d.size, 640);
  EXPECT_DOUBLE_EQ(d.anomaly_ratio, 0.9);
  EXPECT_FALSE(d.object);
  EXPECT_TRUE(d.textures.empty());

  const SynthSettings o = parse_synth_settings(p, {{"synth", "perlin"}, {"synth_size", "64"}});
  EXPECT_EQ(o.mode, SynthMode::Perlin);
  EXPECT_EQ(o.size, 64);
  const auto& keys = synth_setting_keys();
  for (const char* k : {"synth", "synth_size", "anomaly_ratio", "textures", "defects", "defect_scales"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
}

TEST(CprSynthSettings, BadValuesNameFileKeyValueAndAccepted) {
  using advad::test::expect_error;
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({{"synth", "blob"}})); },
                             {"/cats/jelly/jelly.ini", "[train]", "synth", "'blob'", "perlin | cutpaste | both"});
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({{"anomaly_ratio", "1.5"}})); },
                             {"[train]", "anomaly_ratio", "1.5", "0 <= value <= 1"});
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({{"synth_size", "16"}})); },
                             {"synth_size", "16", "integer 32..8192"});
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({{"synth_size", "64.5"}})); }, {"synth_size"});
  for (const char* bad : {"hair=0.1-0.2", "hair:0.2-0.1", "hair:0-0.1", "hair:0.1", ":0.1-0.2", "hair:a-b"})
    expect_error<ProfileError>(
        [&] { parse_synth_settings(train_profile({{"defects", "p"}, {"defect_scales", bad}})); },
        {"defect_scales", bad, "name:lo-hi"});
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({{"synth", "cutpaste"}})); },
                             {"[train]", "synth", "cutpaste", "defects"});
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({}), {{"synth", "both"}}); },
                             {"synth", "both", "defects"});
  expect_error<ProfileError>([] { parse_synth_settings(train_profile({}), {{"anomaly_ratio", "-1"}}); },
                             {"anomaly_ratio", "-1"});
  Profile p = train_profile({});
  p.method_groups["cpr"]["foreground"] = "maybe";
  expect_error<ProfileError>([&] { parse_synth_settings(p); }, {"[cpr]", "foreground"});
}

// ---------------------------------------------------------------- sources

TEST(CprSynthSources, LoadsTexturesAndPatchLibraries) {
  const fs::path dir = scratch("sources_ok");
  fs::create_directories(dir / "dtd/banded");
  fs::create_directories(dir / "dtd/dotted/deeper");
  cv::imwrite((dir / "dtd/banded/a.jpg").string(), noise_texture(50, 1));
  cv::imwrite((dir / "dtd/dotted/deeper/b.png").string(), noise_texture(70, 2));
  write_text(dir / "dtd/readme.txt", "not an image");
  fs::create_directories(dir / "defects/hair");
  fs::create_directories(dir / "defects/screw");
  fs::create_directories(dir / "defects/empty");
  cv::imwrite((dir / "defects/hair/h1.png").string(), cv::Mat(10, 6, CV_8UC4, cv::Scalar(1, 2, 3, 200)));
  cv::imwrite((dir / "defects/screw/s1.png").string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar(9, 9, 9)));
  cv::Mat m = cv::Mat::zeros(8, 8, CV_8U);
  m(cv::Rect(2, 2, 4, 4)).setTo(255);
  cv::imwrite((dir / "defects/screw/s1_mask.png").string(), m);

  SynthSettings st;
  st.size = 64;
  st.textures = (dir / "dtd").string();
  st.defects = (dir / "defects").string();
  st.defect_scales["hair"] = {0.05, 0.2};
  st.default_scale = {0.3, 0.4};
  const SynthSources src = load_synth_sources(st);
  ASSERT_EQ(src.textures.size(), 2u);
  for (const auto& t : src.textures) {
    EXPECT_EQ(t.type(), CV_8UC3);
    EXPECT_EQ(t.size(), cv::Size(64, 64));
  }
  ASSERT_EQ(src.libraries.size(), 2u);  // "empty" is skipped
  EXPECT_EQ(src.libraries[0].name, "hair");
  EXPECT_EQ(src.libraries[0].scale, std::make_pair(0.05, 0.2));
  ASSERT_EQ(src.libraries[0].patches.size(), 1u);
  EXPECT_EQ(src.libraries[0].patches[0].bgra.type(), CV_8UC4);
  EXPECT_EQ(src.libraries[0].patches[0].bgra.at<cv::Vec4b>(0, 0)[3], 200);
  EXPECT_EQ(src.libraries[1].name, "screw");
  EXPECT_EQ(src.libraries[1].scale, std::make_pair(0.3, 0.4));
  ASSERT_EQ(src.libraries[1].patches.size(), 1u);  // s1_mask.png is the mask, not a patch
  const cv::Mat& s1 = src.libraries[1].patches[0].bgra;
  EXPECT_EQ(s1.at<cv::Vec4b>(0, 0), cv::Vec4b(9, 9, 9, 0));
  EXPECT_EQ(s1.at<cv::Vec4b>(3, 3), cv::Vec4b(9, 9, 9, 255));
  fs::remove_all(dir);
}

TEST(CprSynthSources, ErrorsNameTheFolderOrFile) {
  using advad::test::expect_error;
  const fs::path dir = scratch("sources_bad");
  SynthSettings st;
  st.size = 32;
  st.textures = (dir / "missing").string();
  expect_error<InputError>([&] { load_synth_sources(st); }, {(dir / "missing").string(), "textures"});
  fs::create_directories(dir / "empty");
  st.textures = (dir / "empty").string();
  expect_error<InputError>([&] { load_synth_sources(st); }, {(dir / "empty").string(), "no images"});
  fs::create_directories(dir / "broken");
  write_text(dir / "broken/x.png", "this is not a png");
  st.textures = (dir / "broken").string();
  expect_error<InputError>([&] { load_synth_sources(st); }, {(dir / "broken/x.png").string()});

  st.textures.clear();
  st.defects = (dir / "nodefects").string();
  expect_error<InputError>([&] { load_synth_sources(st); }, {(dir / "nodefects").string(), "defects"});
  st.defects = (dir / "empty").string();
  expect_error<InputError>([&] { load_synth_sources(st); }, {(dir / "empty").string(), "sub-folder"});
  fs::create_directories(dir / "lib/tube");
  cv::imwrite((dir / "lib/tube/t.png").string(), cv::Mat(5, 5, CV_8UC3, cv::Scalar::all(7)));
  st.defects = (dir / "lib").string();
  expect_error<InputError>([&] { load_synth_sources(st); }, {(dir / "lib/tube/t.png").string(), "t_mask.png"});
  cv::imwrite((dir / "lib/tube/t_mask.png").string(), cv::Mat(5, 5, CV_8U, cv::Scalar(255)));
  EXPECT_NO_THROW(load_synth_sources(st));
  st.defect_scales["hair"] = {0.1, 0.2};
  expect_error<InputError>([&] { load_synth_sources(st); }, {"defect_scales", "hair", (dir / "lib").string()});
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- advad synth

TEST(CprSynthCommand, WritesSamplesMasksAndPreview) {
  const fs::path dir = scratch("cmd_ok");
  fs::create_directories(dir / "train/good");
  for (int i = 0; i < 3; ++i) cv::imwrite((dir / ("train/good/00" + std::to_string(i) + ".png")).string(), smooth_image(80, i));
  fs::create_directories(dir / "patches/spot");
  cv::imwrite((dir / "patches/spot/p.png").string(), cv::Mat(12, 12, CV_8UC4, cv::Scalar(0, 0, 0, 255)));
  write_text(dir / "cat.ini",
             "[profile]\nmethod = cpr\nmodel = pkg\n\n[train]\nsynth = perlin\nsynth_size = 64\n"
             "anomaly_ratio = 1\ndefects = patches\ndefect_scales = spot:0.5-1\n");
  const std::string args = "synth " + (dir / "cat.ini").string() + " --train " + (dir / "train").string() +
                           " --count 5 --seed 3 --set synth=both --set=anomaly_ratio=0.5 --out ";
  auto r = run_advad(args + (dir / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (int i = 0; i < 5; ++i) {
    const cv::Mat img = cv::imread((dir / ("out/00" + std::to_string(i) + ".png")).string(), cv::IMREAD_UNCHANGED);
    const cv::Mat mask = cv::imread((dir / ("out/00" + std::to_string(i) + "_mask.png")).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(img.empty()) << i;
    ASSERT_FALSE(mask.empty()) << i;
    EXPECT_EQ(img.size(), cv::Size(64, 64));
    EXPECT_EQ(img.type(), CV_8UC3);
    EXPECT_EQ(mask.type(), CV_8U);
    EXPECT_EQ(cv::countNonZero((mask != 0) & (mask != 255)), 0);
  }
  const cv::Mat sheet = cv::imread((dir / "out/preview.png").string());
  ASSERT_FALSE(sheet.empty());
  EXPECT_GT(sheet.cols, sheet.rows);
  // Same seed: the same files.
  r = run_advad(args + (dir / "again").string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"000.png", "004_mask.png", "preview.png"})
    EXPECT_EQ(read_bytes(dir / "out" / f), read_bytes(dir / "again" / f)) << f;
  fs::remove_all(dir);
}

TEST(CprSynthCommand, HelpAndBadInputsExitWith2) {
  const fs::path dir = scratch("cmd_bad");
  auto r = run_advad("synth --help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--train", "--out", "--count", "--seed", "--set", "foreground"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  fs::create_directories(dir / "train");
  cv::imwrite((dir / "train/a.png").string(), smooth_image(40));
  fs::create_directories(dir / "empty");
  write_text(dir / "bad.ini", "[profile]\nmethod = cpr\nmodel = pkg\n\n[train]\nsynth = blob\n");
  write_text(dir / "ok.ini", "[profile]\nmethod = cpr\nmodel = pkg\n\n[train]\nsynth_size = 32\n");
  write_text(dir / "nodefects.ini",
             "[profile]\nmethod = cpr\nmodel = pkg\n\n[train]\nsynth = cutpaste\ndefects = nowhere\n");
  const std::string tail = " --train " + (dir / "train").string() + " --out " + (dir / "out").string();
  r = run_advad("synth " + (dir / "bad.ini").string() + tail);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("[train] synth: bad value 'blob'"), std::string::npos) << r.out;
  r = run_advad("synth " + (dir / "nodefects.ini").string() + tail);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find((dir / "nowhere").string()), std::string::npos) << r.out;
  r = run_advad("synth " + (dir / "ok.ini").string() + " --train " + (dir / "empty").string() + " --out " +
                (dir / "out").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find((dir / "empty").string()), std::string::npos) << r.out;
  r = run_advad("synth " + (dir / "ok.ini").string() + tail + " --set epochs=3");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("epochs"), std::string::npos) << r.out;
  r = run_advad("synth " + (dir / "ok.ini").string() + " --out " + (dir / "out").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--train"), std::string::npos) << r.out;
  r = run_advad("synth " + (dir / "ok.ini").string() + tail + " --count 0");
  EXPECT_EQ(r.code, 2) << r.out;
  fs::remove_all(dir);
}
