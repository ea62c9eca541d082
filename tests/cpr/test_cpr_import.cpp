// `advad import cpr` end to end on the fixture's checkpoint and training
// images: the written package loads through the profile, scores, and each
// training image retrieves itself first; bad inputs exit with code 2 and a
// message naming the culprit; --foreground on fits the foreground branch.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/profile.h"
#include "cpr/model/image.h"
#include "cpr/model/model.h"
#include "cpr_fixture.h"

using namespace advad;
namespace fs = std::filesystem;

namespace {

using advad::test::CliRun;
CliRun run_advad(const std::string& args) { return advad::test::advad_cli(args); }

std::string temp_dir(const std::string& name) {
  auto d = advad::test::test_tmp_dir("cpri") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

}  // namespace

TEST(CprImport, WritesAPackageThatLoadsAndRetrievesItself) {
  const auto dir = temp_dir("ok");
  fs::create_directories(dir + "/train/good");
  for (int i = 0; i < 6; ++i)
    fs::copy_file(cprtest::data("tiny/train_00" + std::to_string(i) + ".png"),
                  dir + "/train/good/00" + std::to_string(i) + ".png");
  auto r = run_advad("import cpr " + cprtest::model_pth() + " --train " + dir + "/train --out " + dir +
                 "/pkg --k 3 --batch 3 --device cpu --threads 2 --category jelly");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("6 images"), std::string::npos) << r.out;

  const Profile p = load_profile(dir + "/pkg/profile.ini");
  EXPECT_EQ(p.method, "cpr");
  EXPECT_EQ(p.category, "jelly");
  auto model = cpr::load_cpr_package(p, ModelOptions{"cpu", "fp32", 0});
  EXPECT_EQ(model->bank().size(), 6);
  EXPECT_EQ(model->settings().k, 3);
  EXPECT_EQ(model->bank().train_names[5], "good/005.png");
  auto batch = torch::stack({cpr::load_cpr_input(dir + "/train/good/002.png", 320, 320),
                             cpr::load_cpr_input(cprtest::data("tiny/query.png"), 320, 320)});
  auto details = model->score_details(batch);
  EXPECT_EQ(details[0].retrieved[0], 2);  // a training image is its own nearest neighbour
  EXPECT_TRUE(torch::isfinite(details[1].blurred).all().item<bool>());
  EXPECT_GT(details[1].score, details[0].score);  // the defect query scores above a normal image
  fs::remove_all(dir);
}

TEST(CprImport, BadInputsExitWithCode2AndSayWhy) {
  const auto dir = temp_dir("bad");
  auto r = run_advad("import cpr " + cprtest::model_pth() + " --out " + dir + "/pkg");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--train"), std::string::npos) << r.out;

  fs::create_directories(dir + "/empty");
  r = run_advad("import cpr " + cprtest::model_pth() + " --train " + dir + "/empty --out " + dir + "/pkg --device cpu");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find(dir + "/empty"), std::string::npos) << r.out;

  std::ofstream(dir + "/broken.pth") << "not a checkpoint";
  fs::create_directories(dir + "/train");
  fs::copy_file(cprtest::data("tiny/train_000.png"), dir + "/train/a.png");
  r = run_advad("import cpr " + dir + "/broken.pth --train " + dir + "/train --out " + dir + "/pkg --device cpu");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("broken.pth"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/pkg/bank.bin"));
  fs::remove_all(dir);
}

TEST(CprImport, ForegroundOnFitsTheForegroundBranch) {
  const auto dir = temp_dir("fg");
  fs::create_directories(dir + "/train/good");
  for (int i = 0; i < 6; ++i)
    fs::copy_file(cprtest::data("tiny/train_00" + std::to_string(i) + ".png"),
                  dir + "/train/good/00" + std::to_string(i) + ".png");
  auto r = run_advad("import cpr " + cprtest::model_pth() + " --train " + dir + "/train --out " + dir +
                     "/pkg --k 3 --batch 3 --size 160 --device cpu --threads 2 --foreground on");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("foreground: fitted on"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("no foreground found"), std::string::npos) << r.out;  // no weight-1 fallback

  const Profile p = load_profile(dir + "/pkg/profile.ini");
  auto model = cpr::load_cpr_package(p, ModelOptions{"cpu", "fp32", 0});
  EXPECT_TRUE(model->settings().foreground);
  ASSERT_TRUE(model->bank().has_foreground());
  EXPECT_EQ(model->bank().foreground.sizes(), (std::vector<int64_t>{6, 40, 40}));
  const auto fg = model->bank().foreground;
  EXPECT_GE(fg.min().item<float>(), 0.0f);
  EXPECT_LE(fg.max().item<float>(), 1.0f);
  fs::remove_all(dir);
}
