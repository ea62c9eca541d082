// `advad import cpr --grb/--feb`: the official grb.pth / feb.pth (pickled
// modules, tests/data/cpr/official, made by the official code with
// make_fixture.py) are read as they are, and the imported package's maps are
// the official inference's; a wrong file exits 2 naming it and what was
// expected; without them the refit fallback still runs and says so.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/error.h"
#include "core/profile.h"
#include "cpr/bank/official_branches.h"
#include "cpr/model/image.h"
#include "cpr/model/model.h"
#include "cpr_fixture.h"

using namespace advad;
namespace fs = std::filesystem;

namespace {

std::string official(const std::string& f) { return cprtest::data("official/" + f); }

// A scratch folder with the fixture's 6 training images in the official layout (train/good/00i.png).
std::string scratch(const std::string& name) {
  auto d = advad::test::test_tmp_dir("cpro") / name;
  fs::remove_all(d);
  fs::create_directories(d / "train" / "good");
  for (int i = 0; i < 6; ++i)
    fs::copy_file(cprtest::data("tiny/train_00" + std::to_string(i) + ".png"),
                  d / "train" / "good" / ("00" + std::to_string(i) + ".png"));
  return d.string();
}

advad::test::CliRun import(const std::string& dir, const std::string& extra) {
  return advad::test::advad_cli("import cpr " + cprtest::model_pth() + " --train " + dir + "/train --out " + dir +
                                "/pkg --k 3 --batch 3 --device cpu --threads 2 " + extra);
}

// The package's blurred map of the fixture query.
torch::Tensor query_map(const std::string& dir) {
  auto model = cpr::load_cpr_package(load_profile(dir + "/pkg/profile.ini"), ModelOptions{"cpu", "fp32", 0});
  auto batch = cpr::load_cpr_input(cprtest::data("tiny/query.png"), 320, 320).unsqueeze(0);
  return model->score_details(batch)[0].blurred.reshape({320, 320});
}

}  // namespace

TEST(CprImportOfficial, ReadsTheOfficialBranchesAsTheyAre) {
  const auto grb = cpr::load_official_grb(official("grb.pth"));
  EXPECT_LE(cprtest::max_abs_diff(grb.codebook, cprtest::npy("tiny/grb_codebook.npy")), 1e-6);
  EXPECT_LE(cprtest::max_abs_diff(grb.refs, cprtest::npy("tiny/grb_train_hist.npy")), 0.0);
  const auto feb = cpr::load_official_feb(official("feb.pth"));
  EXPECT_LE(cprtest::max_abs_diff(feb.weight.reshape({-1}), cprtest::npy("tiny-object/feb_weight.npy").reshape({-1})),
            1e-6);
  EXPECT_LE(cprtest::max_abs_diff(feb.bias.reshape({-1}), cprtest::npy("tiny-object/feb_bias.npy").reshape({-1})), 1e-6);
}

TEST(CprImportOfficial, ObjectMapIsTheOfficialOne) {
  const auto dir = scratch("object");
  auto r = import(dir, "--grb " + official("grb.pth") + " --feb " + official("feb.pth"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("GRB codebook: read from " + official("grb.pth")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("foreground branch: read from " + official("feb.pth")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("match"), std::string::npos) << r.out;  // histograms = grb.pth's refs
  EXPECT_EQ(r.out.find("refitting"), std::string::npos) << r.out;
  const double diff = cprtest::max_abs_diff(query_map(dir), cprtest::npy("official/anomaly_map_object.npy"));
  std::cout << "object map vs the official inference: max abs diff " << diff << "\n";
  EXPECT_LE(diff, 1e-4);
  fs::remove_all(dir);
}

TEST(CprImportOfficial, TextureMapIsTheOfficialOne) {
  const auto dir = scratch("texture");
  auto r = import(dir, "--grb " + official("grb.pth") + " --foreground off");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("GRB codebook: read from"), std::string::npos) << r.out;
  const double diff = cprtest::max_abs_diff(query_map(dir), cprtest::npy("official/anomaly_map_texture.npy"));
  std::cout << "texture map vs the official inference: max abs diff " << diff << "\n";
  EXPECT_LE(diff, 1e-4);
  fs::remove_all(dir);
}

TEST(CprImportOfficial, WithoutThemTheBranchesAreRefittedAndTheOutputSaysSo) {
  const auto dir = scratch("refit");
  auto r = import(dir, "--foreground on");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("GRB codebook: refitting here"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("foreground branch: fitting here"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("read from"), std::string::npos) << r.out;
  const auto map = query_map(dir);
  ASSERT_TRUE(torch::isfinite(map).all().item<bool>());
  std::cout << "refitted object map vs the official inference: max abs diff "
            << cprtest::max_abs_diff(map, cprtest::npy("official/anomaly_map_object.npy")) << "\n";
  fs::remove_all(dir);
}

TEST(CprImportOfficial, WrongFilesExitWith2NamingTheFileAndWhatWasExpected) {
  const auto dir = scratch("bad");
  const std::string truncated = dir + "/grb_truncated.pth";
  {
    std::ifstream in(official("grb.pth"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  struct Case {
    std::string flags, file, says;
  };
  const std::vector<Case> cases = {
      {"--grb " + cprtest::model_pth(), cprtest::model_pth(), "holds a state dict"},
      {"--grb " + truncated, truncated, "truncated"},
      {"--feb " + official("grb.pth"), official("grb.pth"), "GlobalRetrievalBranch (this is a grb.pth: give it as --grb)"},
      {"--grb " + official("feb.pth"), official("feb.pth"), "ForegroundEstimateBranch (this is a feb.pth: give it as --feb)"},
      {"--feb " + official("feb_512_channels.pth"), official("feb_512_channels.pth"),
       "conv1x1.weight has shape [1, 512, 1, 1], expected [1, 256, 1, 1]"},
  };
  for (const auto& c : cases) {
    auto r = import(dir, c.flags);
    EXPECT_EQ(r.code, 2) << c.flags << "\n" << r.out;
    EXPECT_NE(r.out.find(c.file), std::string::npos) << c.flags << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.flags << "\n" << r.out;
    const bool grb_flag = c.flags.rfind("--grb", 0) == 0;
    EXPECT_NE(r.out.find(grb_flag ? "expected the official CPR grb.pth" : "expected the official CPR feb.pth"),
              std::string::npos)
        << c.flags << "\n" << r.out;
    EXPECT_FALSE(fs::exists(dir + "/pkg/bank.bin")) << c.flags;
  }
  auto r = import(dir, "--feb " + official("feb.pth") + " --foreground off");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--foreground off"), std::string::npos) << r.out;
  fs::remove_all(dir);
}
