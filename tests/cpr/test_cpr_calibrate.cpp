// A CPR package made by `advad train` (random frozen trunk, 64 px, a few steps)
// on a generated MVTec AD 2 layout category:
//  - the bank records each training image's content, and leaving an image's own
//    entries out makes a training image score like a held-out one (without it,
//    it matches itself: map ~ 0);
//  - `advad calibrate` on the training split (leave-one-out) gives thresholds
//    within 2x of those from the held-out validation split;
//  - the package is self-contained: no absolute path in its profile.ini, a copy
//    in another folder predicts the same maps after the original is deleted;
//  - a profile pointing at the package is read through the package's
//    profile.ini, where `calibrate --write` writes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support.h"
#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "cpr/model/image.h"
#include "cpr/model/model.h"
#include "data/image_io.h"
#include "data/mini_dataset.h"
#include "data/tiff_io.h"

namespace fs = std::filesystem;
using namespace advad;
using advad::test::advad_cli;
using advad::test::CliRun;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// "rule  threshold ..." rows of advad calibrate's table.
std::map<std::string, double> thresholds(const std::string& out) {
  std::map<std::string, double> t;
  std::stringstream s(out);
  for (std::string line; std::getline(s, line);) {
    std::stringstream ls(line);
    std::string rule, value;
    ls >> rule >> value;
    if (rule == "mean-std" || rule == "percentile" || rule == "max-f1") {
      try {
        t[rule] = std::stod(value);
      } catch (const std::exception&) {
      }
    }
  }
  return t;
}

class CprCalibrate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = advad::test::test_tmp_dir("cprcal");
    MiniDatasetSpec s;
    s.category = "tiny";
    s.n_train = 8;
    s.n_validation = 8;
    s.n_test_good = 1;
    s.n_test_bad = 2;
    s.n_private = 1;
    s.width = 96;
    s.height = 64;
    s.seed = 3;
    data_ = write_mini_dataset((root_ / "data").string(), s);
    fs::create_directories(root_ / "src");
    ini_ = root_ / "src" / "train.ini";
    std::ofstream(ini_) << "[profile]\ncategory = tiny\nmethod = cpr\nmodel = ../pkg\n"
                        << "[input]\nwidth = 64\nheight = 64\ncrop = 0\nresize = linear\n"
                        << "[tiling]\nlevels = 1x1\n[threshold]\ndefault = 0.5\n"
                        << "[cpr]\nk = 3\n"
                        << "[train]\ndata = ../data/tiny\nbackbone_weights = random\nsize = 64\nbatch = 2\nk = 3\n"
                        << "steps = 2\npoints = 40\nsynth_size = 64\nsynth_per_image = 1\ncheckpoint_every = 0\n";
    train_ = advad_cli("train " + q(ini_) + " --threads 2 --quiet");
  }
  static fs::path pkg() { return root_ / "pkg"; }
  static fs::path root_, ini_;
  static std::string data_;
  static CliRun train_;
};
fs::path CprCalibrate::root_, CprCalibrate::ini_;
std::string CprCalibrate::data_;
CliRun CprCalibrate::train_;

}  // namespace

TEST_F(CprCalibrate, BankKnowsItsImagesAndLeaveOneOutRemovesTheSelfMatch) {
  ASSERT_EQ(train_.code, 0) << train_.out;
  const Profile p = load_profile((pkg() / "profile.ini").string());
  auto model = cpr::load_cpr_package(p, ModelOptions{"cpu", "fp32", 0});
  const auto& bank = model->bank();
  ASSERT_EQ(bank.size(), 8);
  ASSERT_EQ(bank.train_hashes.size(), 8u);
  const fs::path train_img = fs::path(data_) / "train" / "good" / "002_regular.png";
  ASSERT_TRUE(fs::exists(train_img));
  const auto own = bank.entries_of_file(train_img.string());
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(bank.train_names.at(static_cast<size_t>(own[0])), "002_regular.png");
  // A copy elsewhere is still recognised; a validation image is not in the bank.
  fs::copy_file(train_img, root_ / "copy.png", fs::copy_options::overwrite_existing);
  EXPECT_EQ(bank.entries_of_file((root_ / "copy.png").string()), own);
  EXPECT_TRUE(bank.entries_of_file((fs::path(data_) / "validation/good/002_regular.png").string()).empty());

  auto max_of = [&](const fs::path& img) {
    const auto batch = cpr::load_cpr_input(img.string(), 64, 64, p.input.mean, p.input.std).unsqueeze(0);
    return model->score_details(batch)[0].map.max().item<double>();
  };
  const double self = max_of(train_img);
  model->set_excluded(own);
  const double loo = max_of(train_img);
  model->set_excluded({});
  const double held_out = max_of(fs::path(data_) / "validation/good/002_regular.png");
  std::cout << "map max: self-matched " << self << ", leave-one-out " << loo << ", held-out " << held_out << "\n";
  EXPECT_LT(self, 0.25 * loo) << "a training image matches itself";
  EXPECT_GT(loo, held_out / 3.0);  // one image against another: same order of magnitude
  EXPECT_LT(loo, 3.0 * held_out);
  EXPECT_THROW(model->set_excluded({8}), ModelError);
}

TEST_F(CprCalibrate, TrainSplitLeaveOneOutIsWithinTwiceHeldOut) {
  ASSERT_EQ(train_.code, 0) << train_.out;
  const fs::path prof = pkg() / "profile.ini";
  const std::string common = " --dataset " + q(root_ / "data") + " --category tiny --percentile 99 --threads 2";
  CliRun tr = advad_cli("calibrate " + q(prof) + common + " --split train");
  ASSERT_EQ(tr.code, 0) << tr.out;
  EXPECT_NE(tr.out.find("leave-one-out"), std::string::npos) << tr.out;
  EXPECT_NE(tr.out.find("only 8 images calibrate"), std::string::npos) << tr.out;
  CliRun va = advad_cli("calibrate " + q(prof) + common + " --split validation");
  ASSERT_EQ(va.code, 0) << va.out;
  EXPECT_EQ(va.out.find("leave-one-out"), std::string::npos) << va.out;
  const auto t_train = thresholds(tr.out), t_val = thresholds(va.out);
  for (const char* rule : {"mean-std", "percentile"}) {
    ASSERT_TRUE(t_train.count(rule) && t_val.count(rule)) << tr.out << va.out;
    const double a = t_train.at(rule), b = t_val.at(rule);
    std::cout << rule << ": train (leave-one-out) " << a << ", validation " << b << "\n";
    ASSERT_GT(b, 0.0);
    EXPECT_LE(a, 2.0 * b) << rule;
    EXPECT_GE(a, 0.5 * b) << rule;
  }
}

TEST_F(CprCalibrate, PackageIsSelfContainedAndMovable) {
  ASSERT_EQ(train_.code, 0) << train_.out;
  const std::string text = read_text(pkg() / "profile.ini");
  // No absolute path: model is the package itself, [train] paths are relative to it.
  EXPECT_EQ(text.find(root_.string()), std::string::npos) << text;
  EXPECT_NE(text.find("model=."), std::string::npos) << text;
  EXPECT_NE(text.find("data=../data/tiny"), std::string::npos) << text;

  const fs::path moved_root = advad::test::test_tmp_dir("cprcal_moved");
  fs::remove_all(moved_root / "pkg_orig");
  fs::copy(pkg(), moved_root / "pkg_orig", fs::copy_options::recursive);
  const std::string args = " --dataset " + q(root_ / "data") + " --category tiny --split test_public --threads 2 --quiet";
  CliRun a = advad_cli("predict " + q(moved_root / "pkg_orig") + args + " --out " + q(moved_root / "out_a"));
  ASSERT_EQ(a.code, 0) << a.out;
  fs::create_directories(moved_root / "elsewhere");
  fs::copy(moved_root / "pkg_orig", moved_root / "elsewhere" / "pkg_copy", fs::copy_options::recursive);
  fs::remove_all(moved_root / "pkg_orig");
  CliRun b = advad_cli("predict " + q(moved_root / "elsewhere" / "pkg_copy" / "profile.ini") + args + " --out " +
                       q(moved_root / "out_b"));
  ASSERT_EQ(b.code, 0) << b.out;
  int compared = 0;
  for (const auto& e : fs::recursive_directory_iterator(moved_root / "out_a" / "anomaly_images")) {
    if (e.path().extension() != ".tiff") continue;
    const fs::path other = moved_root / "out_b" / fs::relative(e.path(), moved_root / "out_a");
    ASSERT_TRUE(fs::exists(other)) << other;
    const cv::Mat ma = read_map(e.path().string()), mb = read_map(other.string());
    ASSERT_EQ(ma.size(), mb.size());
    EXPECT_EQ(cv::norm(ma, mb, cv::NORM_INF), 0.0) << e.path();
    ++compared;
  }
  EXPECT_EQ(compared, 3);
  fs::remove_all(moved_root);
}

TEST_F(CprCalibrate, SourceProfileReadsAndWritesThePackageProfile) {
  ASSERT_EQ(train_.code, 0) << train_.out;
  const std::string source_before = read_text(ini_);
  CliRun r = advad_cli("calibrate " + q(ini_) + " --dataset " + q(root_ / "data") +
                       " --category tiny --threads 2 --quiet --write percentile --percentile 99");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("using the package profile"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(ini_), source_before) << "the source profile is not the one that counts";
  const Profile pk = load_profile((pkg() / "profile.ini").string());
  EXPECT_NE(pk.threshold, 0.5);
  const auto t = thresholds(r.out);
  ASSERT_TRUE(t.count("percentile")) << r.out;
  EXPECT_NEAR(pk.threshold, t.at("percentile"), 1e-6 * std::max(1.0, std::abs(pk.threshold)));
  // Now the two files disagree: reading the source warns and uses the package's values.
  CliRun p = advad_cli("predict " + q(ini_) + " --dataset " + q(root_ / "data") +
                       " --category tiny --split test_public --threads 2 --quiet --out " + q(root_ / "pred_src"));
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_NE(p.out.find("different [threshold] values"), std::string::npos) << p.out;
}
