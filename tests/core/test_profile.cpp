// Profile parsing: the shipped MVTec AD 2 profiles and every validation error.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/profile.h"
#include "test_support.h"

namespace advad {
namespace {

using test::TempDir;

// A valid profile whose model file exists, plus `extra` appended.
std::string write_ini(const TempDir& dir, const std::string& extra, const std::string& name = "cat.ini") {
  dir.write("model.pt", "x");
  return dir.write(name, "[profile]\nmethod = torchscript\nmodel = model.pt\n" + extra);
}

// Expect ProfileError whose message contains every piece.
void expect_error(const std::string& path, const std::vector<std::string>& pieces, bool check_model = true) {
  try {
    load_profile(path, check_model);
    FAIL() << "no ProfileError for " << path;
  } catch (const ProfileError& e) {
    std::string m = e.what();
    for (const auto& p : pieces) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' missing in: " << m;
  }
}

struct Expected {
  const char* category;
  const char* method;
  int cols, rows, input;
  ResizeFilter resize;
  int t_private, t_mixed;  // the seed's uint8 thresholds
};

TEST(Profile, ShippedMvtecProfilesEncodeTheSeed) {
  const Expected all[] = {
      {"can", "inpformer", 4, 2, 448, ResizeFilter::PilBilinear, 79, 96},
      {"fabric", "inpformer", 2, 2, 448, ResizeFilter::PilBilinear, 69, 69},
      {"fruit_jelly", "cpr", 1, 1, 320, ResizeFilter::Linear, 254, 254},
      {"rice", "inpformer", 4, 4, 448, ResizeFilter::PilBilinear, 54, 54},
      {"sheet_metal", "inpformer", 8, 2, 448, ResizeFilter::PilBilinear, 63, 65},
      {"vial", "cpr", 1, 1, 320, ResizeFilter::Linear, 164, 177},
      {"wallplugs", "inpformer", 1, 1, 448, ResizeFilter::PilBilinear, 99, 108},
      {"walnuts", "inpformer", 2, 2, 448, ResizeFilter::PilBilinear, 67, 71},
  };
  for (const auto& e : all) {
    SCOPED_TRACE(e.category);
    Profile p = load_profile(test::shipped_profile(e.category), false);
    EXPECT_EQ(p.category, e.category);
    EXPECT_EQ(p.method, e.method);
    ASSERT_EQ(p.tiling.levels.size(), 1u);
    EXPECT_EQ(p.tiling.levels[0].cols, e.cols);
    EXPECT_EQ(p.tiling.levels[0].rows, e.rows);
    EXPECT_EQ(p.tiling.overlap, 0.0);
    EXPECT_EQ(p.tiling.merge, MergeMode::Paste);
    EXPECT_EQ(p.input.width, e.input);
    EXPECT_EQ(p.input.height, e.input);
    EXPECT_EQ(p.input.crop, 0);
    EXPECT_EQ(p.input.resize, e.resize);
    EXPECT_NEAR(p.input.mean[0], 0.485f, 1e-7);
    EXPECT_NEAR(p.input.std[2], 0.225f, 1e-7);
    // s >= (T+1)/255 keeps exactly the pixels with floor(255 s) > T.
    for (auto [split, T] : {std::pair<std::string, int>{"test_private", e.t_private}, {"test_private_mixed", e.t_mixed}}) {
      const double t = p.threshold_for(split);
      EXPECT_DOUBLE_EQ(t, (T + 1) / 255.0) << split;
      for (int v = T - 2; v <= T + 2 && v <= 255; ++v) {
        const float s = (v + 0.5f) / 255.f;  // a score inside quantisation bin v
        EXPECT_EQ(s >= t, static_cast<int>(std::floor(255.f * s)) > T) << split << " bin " << v;
      }
    }
    EXPECT_DOUBLE_EQ(p.threshold, p.threshold_for("test_private"));
    EXPECT_TRUE(p.model.find("packages/" + std::string(e.category)) != std::string::npos) << p.model;
  }
}

TEST(Profile, ShippedPostprocessingPerCategoryAndSplit) {
  Profile fabric = load_profile(test::shipped_profile("fabric"), false);
  EXPECT_EQ(fabric.post.close_w, 80);
  EXPECT_EQ(fabric.post.close_h, 80);
  EXPECT_TRUE(fabric.post.fill_holes);
  EXPECT_DOUBLE_EQ(fabric.post.fill_fallback, 0.95);
  EXPECT_FALSE(fabric.post.foreground_gate);

  Profile jelly = load_profile(test::shipped_profile("fruit_jelly"), false);
  EXPECT_EQ(jelly.post.erode_w, 15);
  EXPECT_EQ(jelly.post.erode_h, 15);
  EXPECT_EQ(jelly.post.close_w, 0);
  EXPECT_FALSE(jelly.post.fill_holes);
  EXPECT_EQ(jelly.method_groups.at("cpr").at("k"), "10");
  EXPECT_EQ(jelly.method_groups.at("cpr").at("foreground"), "on");

  Profile walnuts = load_profile(test::shipped_profile("walnuts"), false);
  EXPECT_EQ(walnuts.post.close_w, 10);
  EXPECT_TRUE(walnuts.post.fill_holes);
  EXPECT_FALSE(walnuts.post_for("test_private").foreground_gate);
  const PostprocSpec& mixed = walnuts.post_for("test_private_mixed");
  EXPECT_TRUE(mixed.foreground_gate);
  EXPECT_EQ(mixed.foreground_dilate, 15);
  EXPECT_EQ(mixed.close_w, 10);  // inherited from [postproc]
  EXPECT_TRUE(mixed.fill_holes);

  for (const char* plain : {"can", "rice", "sheet_metal", "vial", "wallplugs"}) {
    Profile p = load_profile(test::shipped_profile(plain), false);
    EXPECT_EQ(p.post.close_w + p.post.erode_w + p.post.min_area + p.post.blur_ksize, 0) << plain;
    EXPECT_FALSE(p.post.fill_holes || p.post.foreground_gate) << plain;
  }
}

TEST(Profile, ShippedProfileWithoutPackageSaysHowToMakeIt) {
  expect_error(test::shipped_profile("can"), {"can.ini", "[profile] model", "packages/can", "not found",
                                              "advad train", "advad import inpformer"});
}

TEST(Profile, DefaultsAndRelativeModelPath) {
  TempDir d;
  Profile p = load_profile(write_ini(d, ""));
  EXPECT_EQ(p.category, "cat");
  EXPECT_EQ(p.model, (d.path() / "model.pt").string());
  EXPECT_EQ(p.input.width, 448);
  EXPECT_EQ(p.tiling.levels.size(), 1u);
  EXPECT_EQ(p.threshold, 0.5);
  EXPECT_EQ(p.overlay.colormap, "jet");
  EXPECT_EQ(p.threshold_for("anything"), 0.5);
}

TEST(Profile, PyramidOverlapAndOverlayParse) {
  TempDir d;
  Profile p = load_profile(write_ini(d,
      "[tiling]\nlevels = 1x1; 2x2 ;4X3\noverlap = 0.25\nmerge = mean\nblend = hann\n"
      "[overlay]\ncolormap = Turbo\nopacity = 0.3\nboxes = false\n"
      "[inpformer]\nencoder = vit_small\n[train]\nepochs = 3\n"));
  ASSERT_EQ(p.tiling.levels.size(), 3u);
  EXPECT_EQ(p.tiling.levels[2].cols, 4);
  EXPECT_EQ(p.tiling.levels[2].rows, 3);
  EXPECT_DOUBLE_EQ(p.tiling.overlap, 0.25);
  EXPECT_EQ(p.tiling.merge, MergeMode::Mean);
  EXPECT_EQ(p.tiling.blend, BlendMode::Hann);
  EXPECT_EQ(p.overlay.colormap, "turbo");
  EXPECT_FALSE(p.overlay.boxes);
  EXPECT_EQ(p.method_groups.at("inpformer").at("encoder"), "vit_small");
  EXPECT_EQ(p.method_groups.at("train").at("epochs"), "3");
}

TEST(Profile, UnknownGroupNamesLineAndAcceptedGroups) {
  TempDir d;
  expect_error(write_ini(d, "[tilling]\nlevels = 2x2\n"), {"cat.ini:4", "[tilling]", "unknown group", "tiling"});
}

TEST(Profile, UnknownKeyNamesLineAndAcceptedKeys) {
  TempDir d;
  expect_error(write_ini(d, "[tiling]\nlevels = 2x2\nmerg = mean\n"),
               {"cat.ini:6", "[tiling] merg", "unknown key", "levels, overlap, merge, blend"});
  expect_error(write_ini(d, "[postproc.test_private]\nclosing = 3x3\n"), {"[postproc.test_private] closing", "close"});
}

TEST(Profile, BadEnumListsAcceptedValues) {
  TempDir d;
  expect_error(write_ini(d, "[tiling]\nmerge = average\n"), {"[tiling] merge", "'average'", "paste | mean | max"});
  expect_error(write_ini(d, "[input]\nresize = cubic\n"), {"[input] resize", "pil-bilinear | linear | area"});
  expect_error(write_ini(d, "[overlay]\ncolormap = rainbowz\n"), {"[overlay] colormap", "jet", "turbo"});
  d.write("m.ini", "[profile]\nmethod = patchcore\nmodel = model.pt\n");
  expect_error(d.file("m.ini"), {"m.ini:2", "[profile] method", "'patchcore'", "cpr | inpformer | torchscript"});
}

TEST(Profile, NonNumericAndOutOfRange) {
  TempDir d;
  expect_error(write_ini(d, "[threshold]\ndefault = high\n"), {"[threshold] default", "'high' is not a number"});
  expect_error(write_ini(d, "[input]\nwidth = 44.8\n"), {"[input] width", "not an integer"});
  expect_error(write_ini(d, "[input]\nwidth = 0\n"), {"[input] width", "out of range", "8..8192"});
  expect_error(write_ini(d, "[tiling]\noverlap = 0.5\n"), {"[tiling] overlap", "out of range", "< 0.5"});
  expect_error(write_ini(d, "[postproc]\nfill_fallback = 1.5\n"), {"[postproc] fill_fallback", "out of range"});
  expect_error(write_ini(d, "[postproc]\nblur_ksize = 4\n"), {"blur_ksize", "odd"});
  expect_error(write_ini(d, "[postproc]\nfill_holes = maybe\n"), {"fill_holes", "true | false"});
  expect_error(write_ini(d, "[input]\nmean = 0.5;0.5\n"), {"[input] mean", "3 numbers"});
  expect_error(write_ini(d, "[input]\nstd = 0.2;0;0.2\n"), {"[input] std", "out of range"});
  expect_error(write_ini(d, "[input]\nwidth = 64\nheight = 64\ncrop = 100\n"), {"[input] crop", "larger"});
}

TEST(Profile, BadTiling) {
  TempDir d;
  expect_error(write_ini(d, "[tiling]\nlevels = 4by2\n"), {"[tiling] levels", "COLSxROWS"});
  expect_error(write_ini(d, "[tiling]\nlevels = 0x2\n"), {"[tiling] levels", "out of range"});
  expect_error(write_ini(d, "[tiling]\nlevels = 2xtwo\n"), {"[tiling] levels", "not an integer"});
  expect_error(write_ini(d, "[tiling]\nlevels =\n"), {"[tiling] levels", "no grid"});
  expect_error(write_ini(d, "[tiling]\nblend = hann\n"), {"[tiling] blend", "merge = mean"});
  expect_error(write_ini(d, "[postproc]\nclose = 80y\n"), {"[postproc] close", "80y", "WxH"});
}

TEST(Profile, MissingModelMethodFileAndSyntax) {
  TempDir d;
  d.write("a.ini", "[profile]\nmethod = torchscript\nmodel = nothing_here.pt\n");
  expect_error(d.file("a.ini"), {"a.ini:3", "nothing_here.pt", "not found"});
  EXPECT_NO_THROW(load_profile(d.file("a.ini"), false));
  d.write("b.ini", "[profile]\nmodel = x.pt\n");
  expect_error(d.file("b.ini"), {"b.ini", "missing key 'method'"});
  d.write("c.ini", "[input]\nwidth = 64\n");
  expect_error(d.file("c.ini"), {"c.ini", "missing group [profile]"});
  d.write("e.ini", "[profile]\nmethod torchscript\n");
  expect_error(d.file("e.ini"), {"e.ini", "not a valid profile"});
  expect_error(d.file("nope.ini"), {"nope.ini", "profile not found"});
}

TEST(Profile, SaveAndReloadRoundTrip) {
  TempDir d;
  Profile p = load_profile(write_ini(d,
      "[tiling]\nlevels = 1x1;3x2\noverlap = 0.125\nmerge = max\n[threshold]\ndefault = 0.3137254901960784\n"
      "mixed = 0.7\n[postproc]\nclose = 10x12\nfill_holes = true\nmin_area = 7\n[postproc.mixed]\n"
      "foreground_gate = true\n[cpr]\nk = 5\n"));
  save_profile(p, d.file("copy.ini"));
  Profile q = load_profile(d.file("copy.ini"));
  EXPECT_EQ(q.model, p.model);
  EXPECT_EQ(to_string(q.tiling.levels), "1x1;3x2");
  EXPECT_EQ(q.tiling.overlap, 0.125);
  EXPECT_EQ(q.tiling.merge, MergeMode::Max);
  EXPECT_EQ(q.threshold, p.threshold);  // exact: shortest round-trip text
  EXPECT_EQ(q.threshold_for("mixed"), 0.7);
  EXPECT_EQ(q.post.close_h, 12);
  EXPECT_EQ(q.post.min_area, 7);
  EXPECT_TRUE(q.post_for("mixed").foreground_gate);
  EXPECT_TRUE(q.post_for("mixed").fill_holes);
  EXPECT_EQ(q.method_groups.at("cpr").at("k"), "5");
}

TEST(Profile, ParseHelpersForElementProperties) {
  EXPECT_EQ(parse_merge_mode("MAX"), MergeMode::Max);
  EXPECT_EQ(parse_blend_mode("hann"), BlendMode::Hann);
  EXPECT_EQ(parse_resize_filter("area"), ResizeFilter::Area);
  EXPECT_EQ(parse_method("cpr"), "cpr");
  EXPECT_EQ(parse_method("INPFormer"), "inpformer");
  EXPECT_THROW(parse_method("patchcore"), ProfileError);
  EXPECT_THROW(parse_merge_mode("sum"), ProfileError);
  EXPECT_GE(colormap_id("inferno"), 0);
  EXPECT_THROW(colormap_id("nope"), ProfileError);
  EXPECT_EQ(to_string(MergeMode::Mean), "mean");
  EXPECT_EQ(to_string(ResizeFilter::PilBilinear), "pil-bilinear");
}

TEST(ProfileStrict, EmptyListItemsAreErrorsNamingFileGroupKeyAndValue) {
  TempDir d;
  for (const char* v : {"2x2;;", "2x2;", ";2x2", "1x1;;2x2", "1x1,,2x2", " ; "}) {
    SCOPED_TRACE(v);
    expect_error(write_ini(d, std::string("[tiling]\nlevels = ") + v + "\n"),
                 {"cat.ini:5", "[tiling] levels", "empty level", "COLSxROWS"});
  }
  expect_error(write_ini(d, "[input]\nmean = 0.5;;0.5;0.5\n"), {"cat.ini:5", "[input] mean", "0.5;;0.5;0.5", "empty item"});
  expect_error(write_ini(d, "[input]\nmean = 0.5;0.5;0.5;\n"), {"[input] mean", "empty item", "R;G;B"});
  expect_error(write_ini(d, "[input]\nstd = ,0.2,0.2,0.2\n"), {"[input] std", "empty item"});
  expect_error(write_ini(d, "[input]\nmean = 0.5;0.5;0.5;0.5\n"), {"[input] mean", "3 numbers"});
}

TEST(ProfileStrict, NanInfinityAndTrailingJunkAreNotNumbers) {
  TempDir d;
  for (const char* v : {"nan", "NaN", "inf", "-inf", "1e400", "0.3abc", "0.3 0.4", "0x", ""}) {
    SCOPED_TRACE(v);
    expect_error(write_ini(d, std::string("[threshold]\ndefault = ") + v + "\n"),
                 {"[threshold] default", "'" + std::string(v) + "' is not a number"});
  }
  expect_error(write_ini(d, "[overlay]\nopacity = nan\n"), {"[overlay] opacity", "'nan'"});
  expect_error(write_ini(d, "[tiling]\noverlap = inf\n"), {"[tiling] overlap", "'inf'"});
  expect_error(write_ini(d, "[postproc]\nblur_sigma = 1.5x\n"), {"[postproc] blur_sigma", "'1.5x'"});
  expect_error(write_ini(d, "[input]\nwidth = 64px\n"), {"[input] width", "'64px' is not an integer"});
  expect_error(write_ini(d, "[postproc]\nmin_area = 10 20\n"), {"[postproc] min_area", "not an integer"});
  expect_error(write_ini(d, "[tiling]\nlevels = 2x2 # comment\n"), {"[tiling] levels", "not an integer"});
}

TEST(ProfileStrict, NegativeSizesAreOutOfRange) {
  TempDir d;
  expect_error(write_ini(d, "[input]\nwidth = -448\n"), {"[input] width", "-448", "out of range", "8..8192"});
  expect_error(write_ini(d, "[input]\ncrop = -1\n"), {"[input] crop", "out of range"});
  expect_error(write_ini(d, "[postproc]\nmin_area = -5\n"), {"[postproc] min_area", "-5", "out of range"});
  expect_error(write_ini(d, "[postproc]\nforeground_dilate = -1\n"), {"[postproc] foreground_dilate", "out of range"});
  expect_error(write_ini(d, "[postproc]\nclose = -3x3\n"), {"[postproc] close", "-3x3", "WxH"});
  expect_error(write_ini(d, "[postproc.mixed]\nerode = 3x-3\n"), {"[postproc.mixed] erode", "3x-3"});
  expect_error(write_ini(d, "[tiling]\nlevels = -2x2\n"), {"[tiling] levels", "out of range"});
  expect_error(write_ini(d, "[postproc]\nblur_sigma = -1\n"), {"[postproc] blur_sigma", "out of range"});
  expect_error(write_ini(d, "[overlay]\nheatmap_floor = -0.1\n"), {"[overlay] heatmap_floor", "out of range"});
}

TEST(ProfileStrict, EmptyCategoryAndDuplicateKeysAreErrors) {
  TempDir d;
  d.write("model.pt", "x");
  d.write("e.ini", "[profile]\nmethod = torchscript\nmodel = model.pt\ncategory =\n");
  expect_error(d.file("e.ini"), {"e.ini:4", "[profile] category", "empty"});
  expect_error(write_ini(d, "[threshold]\ndefault = 0.3\ndefault = 0.4\n"),
               {"cat.ini:6", "[threshold] default", "given twice", "line 5"});
  expect_error(write_ini(d, "[tiling]\nlevels = 2x2\n[overlay]\nopacity = 0.2\n[tiling]\nlevels = 4x4\n"),
               {"cat.ini:9", "[tiling] levels", "given twice", "line 5"});
}

TEST(ProfileStrict, HeatmapFloorParsesAndRoundTrips) {
  TempDir d;
  EXPECT_FALSE(load_profile(write_ini(d, "")).overlay.heatmap_floor.has_value());
  Profile p = load_profile(write_ini(d, "[overlay]\nheatmap_floor = 0.125\n"));
  ASSERT_TRUE(p.overlay.heatmap_floor.has_value());
  EXPECT_DOUBLE_EQ(*p.overlay.heatmap_floor, 0.125);
  save_profile(p, d.file("copy.ini"));
  Profile q = load_profile(d.file("copy.ini"));
  ASSERT_TRUE(q.overlay.heatmap_floor.has_value());
  EXPECT_DOUBLE_EQ(*q.overlay.heatmap_floor, 0.125);
  expect_error(write_ini(d, "[overlay]\nheatmap_floor = low\n"), {"[overlay] heatmap_floor", "'low'"});
}

TEST(ProfileStrict, SplitMustBeOneTheProfileDefines) {
  TempDir d;
  Profile p = load_profile(write_ini(d, "[threshold]\ndefault = 0.3\ntest_private = 0.4\n[postproc.mixed]\nclose = 3\n"));
  EXPECT_EQ(p.split_names(), (std::vector<std::string>{"mixed", "test_private"}));
  EXPECT_NO_THROW(p.check_split(""));
  EXPECT_NO_THROW(p.check_split("test_private"));
  EXPECT_NO_THROW(p.check_split("mixed"));
  try {
    p.check_split("test_privat");
    FAIL() << "typo accepted";
  } catch (const ProfileError& e) {
    const std::string m = e.what();
    for (const char* piece : {"'test_privat'", "cat.ini", "mixed, test_private"})
      EXPECT_NE(m.find(piece), std::string::npos) << piece << " missing in: " << m;
  }
  Profile bare = load_profile(write_ini(d, ""));
  EXPECT_TRUE(bare.split_names().empty());
  try {
    bare.check_split("default");
    FAIL() << "a split the profile does not define";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("defines no splits"), std::string::npos) << e.what();
  }
}

TEST(Profile, CalibrationRecordIsCheckedAndKeptOnSave) {
  TempDir d;
  Profile p = load_profile(write_ini(d,
      "[threshold]\ndefault = 0.4\nmixed = 0.6\n[calibration]\nrule = false-alarms\nfalse_alarms = 0.01\n"
      "images = 200\nimages_flagged = 2\nfalse_alarm_bound = 0.0355\ndata = ../data/validation\n"
      "[calibration.mixed]\nrule = percentile\npercentile = 99.9\nimages = 30\n"));
  EXPECT_EQ(p.method_groups.at("calibration").at("images"), "200");
  save_profile(p, d.file("copy.ini"));
  const Profile q = load_profile(d.file("copy.ini"));
  EXPECT_EQ(q.method_groups.at("calibration").at("data"), "../data/validation");
  EXPECT_EQ(q.method_groups.at("calibration.mixed").at("rule"), "percentile");
  EXPECT_TRUE(q.split_names() == std::vector<std::string>{"mixed"});  // a record defines no split
  expect_error(write_ini(d, "[calibration]\nbudget = 0.01\n"),
               {"[calibration] budget", "unknown key", "false_alarms"});
  expect_error(write_ini(d, "[calibration]\nfalse_alarms = 1\n"), {"[calibration] false_alarms", "out of range"});
  expect_error(write_ini(d, "[calibration]\nrule = best\n"), {"[calibration] rule", "false-alarms | mean-std"});
  expect_error(write_ini(d, "[calibration]\nimages = 3\nimages_flagged = 4\n"), {"images_flagged", "more than"});
  expect_error(write_ini(d, "[calibration.a/b]\nrule = manual\n"), {"[calibration.a/b]", "bad split name"});
}

}  // namespace
}  // namespace advad

// One kernel rule for profiles and the advadpostproc properties.
TEST(Profile, KernelForms) {
  EXPECT_EQ(advad::parse_kernel("80x80"), std::make_pair(80, 80));
  EXPECT_EQ(advad::parse_kernel("7X3"), std::make_pair(7, 3));
  EXPECT_EQ(advad::parse_kernel(" 15 "), std::make_pair(15, 15));
  for (const char* off : {"off", "0", "0x0", "none"}) EXPECT_EQ(advad::parse_kernel(off), std::make_pair(0, 0)) << off;
  for (const char* bad : {"x", "5x", "ax3", "-3", "2000", "3x0", "3x3x3"}) {
    try {
      advad::parse_kernel(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const advad::ProfileError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}
