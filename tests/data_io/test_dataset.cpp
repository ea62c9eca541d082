// Dataset layouts (MVTec AD 2, AD v1), the miniature dataset writer, and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/mini_dataset.h"
#include "data/synthetic.h"
#include "test_support.h"

using namespace advad;
namespace fs = std::filesystem;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(MiniDataset, Ad2LayoutAndStemCollision) {
  test::TempDir tmp;
  MiniDatasetSpec spec;
  spec.n_train = 3;
  spec.n_validation = 2;
  spec.n_test_good = 2;
  spec.n_test_bad = 3;
  spec.n_private = 3;
  const std::string cat = write_mini_dataset(tmp.str(), spec);
  EXPECT_EQ(cat, (tmp.path() / "mini").string());
  EXPECT_EQ(detect_layout(tmp.str(), "mini"), DatasetLayout::MvtecAD2);
  EXPECT_EQ(list_categories(tmp.str()), std::vector<std::string>{"mini"});

  EXPECT_EQ(list_split(tmp.str(), "mini", "train").samples.size(), 3u);
  EXPECT_EQ(list_split(tmp.str(), "mini", "validation").samples.size(), 2u);
  SplitListing pub = list_split(tmp.str(), "mini", "test_public");
  ASSERT_EQ(pub.samples.size(), 5u);
  EXPECT_EQ(pub.count_anomalous(), 3u);
  // good/000_regular and bad/000_regular both exist; rel keeps them apart.
  std::set<std::string> rels, stems;
  for (const auto& s : pub.samples) {
    rels.insert(s.rel);
    stems.insert(fs::path(s.image).stem().string());
    if (s.anomalous) {
      EXPECT_EQ(s.defect, "bad");
      EXPECT_EQ(fs::path(s.mask).filename().string(), fs::path(s.image).stem().string() + "_mask.png");
      cv::Mat img = read_image_rgb(s.image);
      cv::Mat m = read_binary_mask(s.mask, img.size());
      EXPECT_GT(cv::countNonZero(m), 0);
    } else {
      EXPECT_TRUE(s.mask.empty());
      EXPECT_EQ(s.defect, "good");
    }
  }
  EXPECT_EQ(rels.size(), 5u);
  EXPECT_LT(stems.size(), 5u);
  EXPECT_TRUE(rels.count("mini/test_public/good/000_regular"));
  EXPECT_TRUE(rels.count("mini/test_public/bad/000_regular"));

  SplitListing priv = list_split(tmp.str(), "mini", "test_private");
  ASSERT_EQ(priv.samples.size(), 3u);
  EXPECT_FALSE(priv.samples[0].labelled);
  EXPECT_EQ(priv.samples[2].rel, "mini/test_private/002_regular");
  EXPECT_EQ(list_split(tmp.str(), "mini", "test_private_mixed").samples[1].rel, "mini/test_private_mixed/001_mixed");
  cv::Mat img = read_image_rgb(priv.samples[0].image);
  EXPECT_EQ(img.size(), cv::Size(96, 64));
}

TEST(MiniDataset, AdV1Layout) {
  test::TempDir tmp;
  write_mini_dataset(tmp.str(), DatasetLayout::MvtecAD, "tex", 2, 2, 4, 40, 32, 7);
  EXPECT_EQ(detect_layout(tmp.str(), "tex"), DatasetLayout::MvtecAD);
  SplitListing t = list_split(tmp.str(), "tex", "test");
  ASSERT_EQ(t.samples.size(), 6u);
  std::set<std::string> defects;
  for (const auto& s : t.samples) {
    defects.insert(s.defect);
    if (s.anomalous) {
      EXPECT_TRUE(fs::exists(s.mask)) << s.mask;
    }
  }
  EXPECT_EQ(defects, (std::set<std::string>{"blob", "good", "scratch"}));
  EXPECT_TRUE(fs::exists(tmp.path() / "tex/ground_truth/scratch/000_mask.png"));
  EXPECT_NE(error_of([&] { list_split(tmp.str(), "tex", "validation"); }).find("valid splits: train, test"), std::string::npos);
}

TEST(MiniDataset, DeterministicAndDefectsOnlyInTest) {
  test::TempDir a, b;
  write_mini_dataset(a.str(), DatasetLayout::MvtecAD2, "m", 2, 1, 2, 32, 32, 5);
  write_mini_dataset(b.str(), DatasetLayout::MvtecAD2, "m", 2, 1, 2, 32, 32, 5);
  for (const auto& rel : {"m/train/good/000_regular.png", "m/test_public/bad/001_overexposed.png",
                          "m/test_public/ground_truth/bad/001_overexposed_mask.png"}) {
    cv::Mat x = read_image_rgb((a.path() / rel).string()), y = read_image_rgb((b.path() / rel).string());
    EXPECT_EQ(cv::norm(x, y, cv::NORM_INF), 0.0) << rel;
  }
  // Train images are texture only: no pixel deviates strongly from the local mean.
  cv::Mat tr = read_image_rgb((a.path() / "m/train/good/000_regular.png").string());
  std::vector<cv::Mat> ch;
  cv::split(tr, ch);
  for (const auto& c : ch) {
    double lo, hi;
    cv::minMaxLoc(c, &lo, &hi);
    EXPECT_LT(hi - lo, 30.0);  // +-8 weave + mild noise; a planted defect is 40..80 off
  }
}

TEST(Synthetic, PlantDefectChangesExactlyTheMask) {
  cv::Mat img = make_regular_texture(64, 48, 3, true);
  cv::Mat before = img.clone();
  cv::Mat mask = plant_defect(img, 11, DefectShape::Blob);
  cv::Mat diff;
  cv::absdiff(img, before, diff);
  cv::Mat changed = diff > 20;
  EXPECT_GT(cv::countNonZero(mask), 4);
  EXPECT_EQ(cv::countNonZero(changed & ~mask), 0);       // nothing changed outside the mask
  EXPECT_GT(cv::countNonZero(changed & mask), cv::countNonZero(mask) * 8 / 10);
  cv::Mat rgb = make_regular_texture(64, 48, 3, false);
  cv::Mat m2 = plant_defect(rgb, 12, DefectShape::Scratch);
  EXPECT_GT(cv::countNonZero(m2), 10);
  EXPECT_EQ(cv::countNonZero(m2.row(0)), 0);
}

TEST(Dataset, ClearErrors) {
  test::TempDir tmp;
  EXPECT_NE(error_of([&] { list_split(tmp.file("nope"), "x", "train"); }).find("does not exist"), std::string::npos);
  EXPECT_NE(error_of([&] { list_split(tmp.str(), "x", "train"); }).find("category 'x'"), std::string::npos);
  fs::create_directories(tmp.path() / "odd/foo");
  EXPECT_NE(error_of([&] { detect_layout(tmp.str(), "odd"); }).find("neither MVTec AD 2"), std::string::npos);

  write_mini_dataset(tmp.str(), DatasetLayout::MvtecAD2, "m", 1, 1, 2, 32, 32, 1);
  EXPECT_NE(error_of([&] { list_split(tmp.str(), "m", "test"); }).find("valid splits: train, validation"), std::string::npos);
  // A bad image whose mask is gone.
  fs::remove(tmp.path() / "m/test_public/ground_truth/bad/001_overexposed_mask.png");
  const std::string e = error_of([&] { list_split(tmp.str(), "m", "test_public"); });
  EXPECT_NE(e.find("001_overexposed_mask.png"), std::string::npos) << e;
  EXPECT_NE(e.find("no ground-truth mask"), std::string::npos) << e;
  // A missing split folder.
  fs::remove_all(tmp.path() / "m/test_private");
  EXPECT_NE(error_of([&] { list_split(tmp.str(), "m", "test_private"); }).find("test_private"), std::string::npos);
  // An empty split.
  fs::remove_all(tmp.path() / "m/validation/good");
  fs::create_directories(tmp.path() / "m/validation/good");
  EXPECT_NE(error_of([&] { list_split(tmp.str(), "m", "validation"); }).find("holds no images"), std::string::npos);
}
