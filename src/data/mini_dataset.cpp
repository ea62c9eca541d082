#include "data/mini_dataset.h"

#include <cstdio>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "data/image_io.h"
#include "data/synthetic.h"

namespace advad {
namespace fs = std::filesystem;
namespace {

const char* const kConditions[] = {"regular", "overexposed", "underexposed", "shift_1"};

std::string idx3(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "%03d", i);
  return b;
}

void save(const fs::path& path, const cv::Mat& img) { write_rgb_image(path.string(), img); }

cv::Mat lit(const cv::Mat& img, const std::string& cond) {
  double gain = cond == "overexposed" ? 1.35 : cond == "underexposed" ? 0.6 : 1.0;
  double shift = cond == "shift_1" ? 12.0 : 0.0;
  cv::Mat out;
  img.convertTo(out, -1, gain, shift);
  return out;
}

}  // namespace

std::string write_mini_dataset(const std::string& root, const MiniDatasetSpec& spec) {
  if (spec.width < 16 || spec.height < 16)
    throw InputError("mini dataset: size " + std::to_string(spec.width) + "x" + std::to_string(spec.height) +
                     " is too small (at least 16x16)");
  if (spec.category.empty()) throw InputError("mini dataset: the category name is empty");
  const fs::path cat = fs::path(root) / spec.category;
  std::error_code ec;
  fs::create_directories(cat, ec);
  if (ec) throw InputError("cannot create " + cat.string() + ": " + ec.message());

  uint32_t seed = spec.seed * 1000003u;
  auto texture = [&]() { return make_regular_texture(spec.width, spec.height, ++seed, spec.gray); };

  if (spec.layout == DatasetLayout::MvtecAD2) {
    for (int i = 0; i < spec.n_train; ++i) save(cat / "train/good" / (idx3(i) + "_regular.png"), texture());
    for (int i = 0; i < spec.n_validation; ++i) save(cat / "validation/good" / (idx3(i) + "_regular.png"), texture());
    for (int i = 0; i < spec.n_test_good; ++i) {
      const std::string cond = kConditions[i % 4];
      save(cat / "test_public/good" / (idx3(i) + "_" + cond + ".png"), lit(texture(), cond));
    }
    for (int i = 0; i < spec.n_test_bad; ++i) {
      const std::string cond = kConditions[i % 4];
      cv::Mat img = texture();
      cv::Mat mask = plant_defect(img, ++seed, DefectShape::Blob);
      save(cat / "test_public/bad" / (idx3(i) + "_" + cond + ".png"), lit(img, cond));
      save(cat / "test_public/ground_truth/bad" / (idx3(i) + "_" + cond + "_mask.png"), mask);
    }
    for (int i = 0; i < spec.n_private; ++i) {
      for (const char* split : {"test_private", "test_private_mixed"}) {
        const bool mixed = std::string(split) == "test_private_mixed";
        cv::Mat img = texture();
        if (i % 2 == 1) plant_defect(img, ++seed, DefectShape::Blob);
        if (mixed) img = lit(img, kConditions[i % 4]);
        save(cat / split / (idx3(i) + (mixed ? "_mixed.png" : "_regular.png")), img);
      }
    }
  } else {
    for (int i = 0; i < spec.n_train; ++i) save(cat / "train/good" / (idx3(i) + ".png"), texture());
    for (int i = 0; i < spec.n_test_good; ++i) save(cat / "test/good" / (idx3(i) + ".png"), texture());
    int n_blob = 0, n_scratch = 0;
    for (int i = 0; i < spec.n_test_bad; ++i) {
      const bool blob = i % 2 == 0;
      const std::string defect = blob ? "blob" : "scratch";
      const int k = blob ? n_blob++ : n_scratch++;
      cv::Mat img = texture();
      cv::Mat mask = plant_defect(img, ++seed, blob ? DefectShape::Blob : DefectShape::Scratch);
      save(cat / "test" / defect / (idx3(k) + ".png"), img);
      save(cat / "ground_truth" / defect / (idx3(k) + "_mask.png"), mask);
    }
  }
  return cat.string();
}

std::string write_mini_dataset(const std::string& root, DatasetLayout layout, const std::string& category, int n_train,
                               int n_test_good, int n_test_bad, int width, int height, uint32_t seed) {
  MiniDatasetSpec s;
  s.layout = layout;
  s.category = category;
  s.n_train = n_train;
  s.n_test_good = n_test_good;
  s.n_test_bad = n_test_bad;
  s.width = width;
  s.height = height;
  s.seed = seed;
  return write_mini_dataset(root, s);
}

}  // namespace advad
