#include "aupro_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/model.h"
#include "core/postproc.h"
#include "core/profile.h"
#include "core/tile_layout.h"
#include "metrics/object_eval.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"

namespace fs = std::filesystem;

namespace advad::test {

namespace {

// Every image of <category_dir>/test/{good,blob,scratch} in name order, as RGB,
// with its ground-truth mask (empty for good images) and "kind/file" name.
void for_each_test_image(const std::string& category_dir,
                         const std::function<void(const cv::Mat&, const cv::Mat&, const std::string&)>& fn) {
  for (const std::string kind : {"good", "blob", "scratch"}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(category_dir) / "test" / kind)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      cv::Mat img = cv::imread(f.string());
      cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
      cv::Mat gt;
      if (kind != "good")
        gt = cv::imread((fs::path(category_dir) / "ground_truth" / kind / (f.stem().string() + "_mask.png")).string(),
                        cv::IMREAD_GRAYSCALE);
      fn(img, gt, kind + "/" + f.filename().string());
    }
  }
}

}  // namespace

AuProVsChance aupro_vs_random_map(const std::string& package_profile, const std::string& category_dir,
                                  const std::string& object) {
  const Profile pkg = load_profile(package_profile);
  ModelOptions mo;
  mo.device = "cpu";
  FrameScorer scorer(std::make_shared<Profile>(pkg), create_model(pkg, mo), 0);
  ObjectEvaluator trained(object, "test"), chance(object, "test");
  cv::RNG rng(5);
  AuProVsChance r;
  for_each_test_image(category_dir, [&](const cv::Mat& img, const cv::Mat& gt, const std::string& name) {
    const AnomalyMap am = scorer.score(img, PixelFormat::RGB, make_tile_layout(img.cols, img.rows, pkg.tiling));
    if (name.rfind("good/", 0) != 0) {
      EXPECT_FALSE(gt.empty()) << name;
      ++r.defective;
    }
    cv::Mat noise(am.map.size(), CV_32F);
    rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
    trained.add(am.map, gt, cv::Mat(), name);
    chance.add(noise, gt, cv::Mat(), name);
  });
  r.chance = chance.finish().pixel.au_pro_at(0.3);
  r.trained = trained.finish().pixel.au_pro_at(0.3);
  return r;
}

PackageScores score_package(const std::string& package_profile, const std::string& category_dir,
                            const std::string& object, const std::string& precision) {
  const Profile pkg = load_profile(package_profile);
  ModelOptions mo;
  mo.device = "cpu";
  mo.precision = precision;
  FrameScorer scorer(std::make_shared<Profile>(pkg), create_model(pkg, mo), 0);
  ObjectEvaluator eval(object, "test");
  PackageScores r;
  for_each_test_image(category_dir, [&](const cv::Mat& img, const cv::Mat& gt, const std::string& name) {
    const AnomalyMap am = scorer.score(img, PixelFormat::RGB, make_tile_layout(img.cols, img.rows, pkg.tiling));
    const Detection d = postprocess(am.map, am.score, pkg.threshold, pkg.post, img);
    eval.add(am.map, gt, d.mask, name);
    r.verdicts.push_back(d.anomalous);
  });
  const ObjectResult res = eval.finish();
  r.au_pro_005 = res.pixel.au_pro_at(0.05);
  r.au_pro_03 = res.pixel.au_pro_at(0.3);
  r.seg_f1 = res.seg_f1();
  r.class_f1 = res.class_f1();
  return r;
}

}  // namespace advad::test
