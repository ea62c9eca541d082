// The synthetic MVTec AD 2 (src/data/synth_ad2, advad synth mvtec-ad2): the
// real layout lists cleanly for every category and split; every defect has a
// mask that covers exactly what it changed, on the product; good images carry
// no defect; bytes are a function of the seed; the mixed split is relit; the
// default sizes fit every seed profile's tiling; the CLI refuses bad flags
// (few runs of the binary: each costs a LibTorch start; the ranges of every
// count flag share one check).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/profile.h"
#include "data/dataset.h"
#include "data/synth_ad2/sample.h"
#include "data/synth_ad2/synth_ad2.h"
#include "test_support.h"

using namespace advad;
namespace fs = std::filesystem;
using synth_ad2::Split;

namespace {

SynthAd2Spec small_spec() {
  SynthAd2Spec s;
  s.n_train = 2;
  s.n_validation = 1;
  s.n_test_good = 2;
  s.n_test_bad = 3;
  s.n_private = 4;
  s.seed = 7;
  return s;
}

std::string bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

// A written image back in the renderer's channel order (RGB or gray).
cv::Mat read_back(const fs::path& p) {
  cv::Mat m = cv::imread(p.string(), cv::IMREAD_UNCHANGED);
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return m;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

class SynthAd2 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("synth_ad2");
    result_ = new SynthAd2Result(write_synthetic_mvtec_ad2(dir_->str(), small_spec()));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static SynthAd2Result* result_;
};
test::TempDir* SynthAd2::dir_ = nullptr;
SynthAd2Result* SynthAd2::result_ = nullptr;

}  // namespace

TEST_F(SynthAd2, EveryCategoryListsWithTheExpectedCounts) {
  ASSERT_EQ(result_->categories.size(), 8u);
  EXPECT_EQ(list_categories(dir_->str()), synthetic_ad2_categories());
  for (const auto& c : result_->categories) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(detect_layout(dir_->str(), c.name), DatasetLayout::MvtecAD2);
    const auto [w, h] = synthetic_ad2_size(c.name, 256);
    EXPECT_EQ(c.width, w);
    EXPECT_EQ(c.height, h);
    EXPECT_TRUE(fs::exists(c.contact_sheet));
    const std::map<std::string, std::pair<size_t, size_t>> expected = {  // split -> (images, anomalous)
        {"train", {2, 0}}, {"validation", {1, 0}}, {"test_public", {5, 3}}, {"test_private", {4, 0}},
        {"test_private_mixed", {4, 0}}};
    for (const auto& split : splits_of(DatasetLayout::MvtecAD2)) {
      const SplitListing l = list_split(dir_->str(), c.name, split);
      EXPECT_EQ(l.samples.size(), expected.at(split).first) << split;
      EXPECT_EQ(l.count_anomalous(), expected.at(split).second) << split;
      for (const auto& s : l.samples) {
        const cv::Mat img = cv::imread(s.image, cv::IMREAD_UNCHANGED);
        ASSERT_EQ(img.size(), cv::Size(w, h)) << s.image;
        EXPECT_EQ(img.channels(), c.gray ? 1 : 3) << s.image;
        EXPECT_EQ(img.depth(), CV_8U);
        if (s.anomalous) {
          const cv::Mat m = cv::imread(s.mask, cv::IMREAD_UNCHANGED);
          ASSERT_EQ(m.size(), img.size()) << s.mask;
          ASSERT_EQ(m.type(), CV_8UC1);
          EXPECT_GT(cv::countNonZero(m), 0) << s.mask;
          EXPECT_EQ(cv::countNonZero(m) + cv::countNonZero(m == 0), static_cast<int>(m.total())) << "not 0/255";
          EXPECT_EQ(cv::countNonZero(m == 255), cv::countNonZero(m));
        }
      }
    }
    // Private ground truth: about half of each private split, the same scenes in both.
    EXPECT_EQ(c.n_private_bad, 2);
    for (const char* split : {"test_private", "test_private_mixed"}) {
      int n = 0;
      for (const auto& e : fs::directory_iterator(fs::path(c.private_ground_truth) / split)) {
        const cv::Mat m = cv::imread(e.path().string(), cv::IMREAD_UNCHANGED);
        EXPECT_EQ(m.size(), cv::Size(w, h));
        EXPECT_GT(cv::countNonZero(m), 0);
        ++n;
      }
      EXPECT_EQ(n, 2) << split;
    }
  }
}

TEST_F(SynthAd2, WrittenFilesAreTheRenderedSamples) {
  const auto spec = small_spec();
  for (const auto* name : {"can", "vial", "wallplugs"}) {
    const auto& cat = *synth_ad2::find_category(name);
    const cv::Size size = synth_ad2::category_size(cat, 256);
    const fs::path d = fs::path(dir_->str()) / name;
    const auto good = synth_ad2::render_sample(cat, size, spec.seed, Split::TestGood, 1, false);
    EXPECT_TRUE(same(read_back(d / "test_public/good" / ("001_" + good.condition + ".png")), good.image)) << name;
    const auto bad = synth_ad2::render_sample(cat, size, spec.seed, Split::TestBad, 2, true);
    const std::string stem = "002_" + bad.condition;
    EXPECT_TRUE(same(read_back(d / "test_public/bad" / (stem + ".png")), bad.image)) << name;
    EXPECT_TRUE(same(read_back(d / "test_public/ground_truth/bad" / (stem + "_mask.png")), bad.mask)) << name;
    EXPECT_TRUE(same(read_back(d / "train/good/000_regular.png"),
                     synth_ad2::render_sample(cat, size, spec.seed, Split::Train, 0, false).image));
  }
}

// The mask covers every changed pixel, the defect changes the image clearly
// where the mask is, and it lies on the product.
TEST(SynthAd2Samples, DefectsAreVisibleMaskedAndOnTheProduct) {
  for (const auto& cat : synth_ad2::categories()) {
    const cv::Size size = synth_ad2::category_size(cat, 256);
    for (int i = 0; i < 6; ++i)
      for (Split split : {Split::TestBad, Split::Private, Split::PrivateMixed}) {
        SCOPED_TRACE(std::string(cat.name) + " #" + std::to_string(i) + " split " + std::to_string(int(split)));
        const auto s = synth_ad2::render_sample(cat, size, 3, split, i, true);
        const int area = cv::countNonZero(s.mask);
        ASSERT_GT(area, 0);
        cv::Mat diff;
        cv::absdiff(s.image, s.clean, diff);
        if (diff.channels() == 3) cv::cvtColor(diff, diff, cv::COLOR_RGB2GRAY);  // any change shows
        cv::Mat changed = diff > 0;
        EXPECT_EQ(cv::countNonZero(changed & ~s.mask), 0) << "a change outside the mask";
        // Light changes (gains, gradients) may compress a defect; keep it clear anyway.
        const double mean_in = cv::mean(diff, s.mask)[0];
        EXPECT_GE(mean_in, split == Split::Private ? 25.0 : 12.0);
        EXPECT_GE(cv::countNonZero((diff > 8) & s.mask), area / 2) << "most of the mask visibly changed";
        EXPECT_GE(cv::countNonZero(s.mask & s.object), area * 6 / 10) << "defect off the product";
      }
  }
}

TEST(SynthAd2Samples, GoodImagesCarryNoDefect) {
  for (const auto& cat : synth_ad2::categories()) {
    const cv::Size size = synth_ad2::category_size(cat, 256);
    for (Split split : {Split::Train, Split::Validation, Split::TestGood, Split::Private, Split::PrivateMixed}) {
      const auto s = synth_ad2::render_sample(cat, size, 5, split, 1, false);
      EXPECT_EQ(cv::countNonZero(s.mask), 0) << cat.name;
      EXPECT_TRUE(same(s.image, s.clean)) << cat.name;
      EXPECT_GT(cv::countNonZero(s.object), 0) << cat.name;
    }
  }
}

TEST(SynthAd2Samples, MixedSplitIsRelitPrivateScene) {
  for (const auto& cat : synth_ad2::categories()) {
    const cv::Size size = synth_ad2::category_size(cat, 256);
    for (int i = 0; i < 8; ++i) {
      const auto p = synth_ad2::render_sample(cat, size, 11, Split::Private, i, i % 2);
      const auto m = synth_ad2::render_sample(cat, size, 11, Split::PrivateMixed, i, i % 2);
      EXPECT_TRUE(same(p.mask, m.mask)) << cat.name << " same scene, same defect";
      const cv::Scalar a = cv::mean(p.image), b = cv::mean(m.image);
      double d = 0;
      for (int c = 0; c < p.image.channels(); ++c) d = std::max(d, std::abs(a[c] - b[c]));
      EXPECT_GE(d, 5.0) << cat.name << " #" << i << ": mixed lighting should change a mean by >= 5 levels";
    }
  }
}

TEST(SynthAd2Writer, DeterministicInTheSeed) {
  test::TempDir a("synth_a"), b("synth_b"), c("synth_c");
  SynthAd2Spec s = small_spec();
  s.categories = {"walnuts", "sheet_metal"};
  s.n_private = 2;
  write_synthetic_mvtec_ad2(a.str(), s);
  write_synthetic_mvtec_ad2(b.str(), s);
  s.seed = 8;
  write_synthetic_mvtec_ad2(c.str(), s);
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(a.path())) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), a.path());
    EXPECT_EQ(bytes(e.path()), bytes(b.path() / rel)) << rel;
    ++files;
  }
  EXPECT_GT(files, 30);
  for (const char* rel : {"walnuts/train/good/000_regular.png", "sheet_metal/test_private/000_regular.png"})
    EXPECT_NE(bytes(a.path() / rel), bytes(c.path() / rel)) << rel;
}

TEST(SynthAd2Writer, RefusesANonEmptyCategoryUnlessOverwriting) {
  test::TempDir d("synth_force");
  SynthAd2Spec s = small_spec();
  s.categories = {"vial"};
  write_synthetic_mvtec_ad2(d.str(), s);
  test::expect_error<InputError>([&] { write_synthetic_mvtec_ad2(d.str(), s); }, {"vial", "not empty", "--force"});
  std::ofstream(d.path() / "vial/train/good/stale.png") << "x";
  s.overwrite = true;
  write_synthetic_mvtec_ad2(d.str(), s);
  EXPECT_FALSE(fs::exists(d.path() / "vial/train/good/stale.png"));
  s.long_side = 20;
  test::expect_error<InputError>([&] { write_synthetic_mvtec_ad2(d.str(), s); }, {"long side", "[64, 4096]"});
  s.long_side = 256;
  s.categories = {"pretzels"};
  test::expect_error<InputError>([&] { write_synthetic_mvtec_ad2(d.str(), s); }, {"pretzels", "walnuts"});
}

// Every seed profile's tiling leaves tiles of at least 28 px at the default size.
TEST(SynthAd2Writer, DefaultSizesFitEverySeedProfile) {
  const int long_side = SynthAd2Spec{}.long_side;
  for (const auto& name : synthetic_ad2_categories()) {
    const Profile p = load_profile(test::shipped_profile(name), /*check_model_file=*/false);
    const auto [w, h] = synthetic_ad2_size(name, long_side);
    EXPECT_EQ(std::max(w, h), long_side) << name;
    for (const auto& g : p.tiling.levels) {
      EXPECT_GE(w / g.cols, 28) << name << " " << g.cols << "x" << g.rows;
      EXPECT_GE(h / g.rows, 28) << name << " " << g.cols << "x" << g.rows;
      EXPECT_EQ(w % g.cols, 0) << name << ": tiles split evenly";
      EXPECT_EQ(h % g.rows, 0) << name << ": tiles split evenly";
      EXPECT_LE(synthetic_ad2_min_tile(name, long_side), std::min(w / g.cols, h / g.rows));
    }
  }
}

TEST(SynthAd2Cli, HelpAndBadFlags) {
  const auto help = test::advad_cli("synth --help");
  EXPECT_EQ(help.code, 0) << help.out;
  EXPECT_NE(help.out.find("mvtec-ad2"), std::string::npos);
  EXPECT_NE(help.out.find("--train"), std::string::npos);  // the CPR preview's own flags
  const auto sub = test::advad_cli("synth mvtec-ad2 --help");
  EXPECT_EQ(sub.code, 0);
  for (const char* flag : {"--out", "--categories", "--seed", "--long-side", "--train", "--validation", "--test-good",
                           "--test-bad", "--private", "--force"})
    EXPECT_NE(sub.out.find(flag), std::string::npos) << flag;

  test::TempDir d("synth_cli");
  const std::string out = " --out '" + d.str() + "'";
  const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
      {"synth mvtec-ad2", {"--out"}},
      {"synth mvtec-ad2" + out + " --long-side 10", {"--long-side", "[64, 4096]"}},
      {"synth mvtec-ad2" + out + " --categories can,pretzels", {"--categories", "pretzels", "walnuts"}}};
  for (const auto& [args, frags] : bad) {
    const auto r = test::advad_cli(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    for (const auto& f : frags) EXPECT_NE(r.out.find(f), std::string::npos) << args << ": no '" << f << "' in " << r.out;
  }
  const std::string one = "synth mvtec-ad2" + out +
                          " --categories sheet_metal --train 1 --validation 1 --test-good 1 --test-bad 1 --private 1";
  const auto ok = test::advad_cli(one);
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("sheet_metal  256x64"), std::string::npos) << ok.out;
  const auto again = test::advad_cli(one);
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.out.find("--force"), std::string::npos) << again.out;
}
