// Helpers of the CPR training tests (test_cpr_train_*.cpp): the scratch
// folder, generated image folders and a tiny CPR training profile.
#pragma once
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "test_support.h"

namespace cprtrain {

inline std::filesystem::path tmp(const std::string& name) { return advad::test::test_tmp_dir("cprtrain") / name; }

// Folder with n smooth RGB images of w x h (deterministic, each a little different).
inline std::string write_images(const std::filesystem::path& dir, int n, int w, int h) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < n; ++i) {
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int v = 110 + static_cast<int>(40 * std::sin(0.35 * x + 0.25 * y + 0.3 * i));
        img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(v), static_cast<uchar>(v + 8), static_cast<uchar>(v - 8));
      }
    cv::imwrite((dir / ("img_" + std::to_string(i) + ".png")).string(), img);
  }
  return dir.string();
}

// A tiny CPR training profile: random frozen trunk, 64 px input.
inline std::string write_profile(const std::filesystem::path& dir, const std::string& data,
                                 const std::string& extra_train, const std::string& cpr = "k = 3\n") {
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "train.ini").string();
  std::ofstream f(path);
  f << "[profile]\ncategory = tiny\nmethod = cpr\nmodel = pkg\n"
    << "[input]\nwidth = 64\nheight = 64\ncrop = 0\nresize = linear\n"
    << "[tiling]\nlevels = 1x1\n[threshold]\ndefault = 0.5\n"
    << "[cpr]\n" << cpr << "[train]\n"
    << advad::test::ini_group_lines({{"data", data}, {"backbone_weights", "random"}, {"size", "64"}, {"batch", "4"},
                                     {"k", "3"}, {"synth_size", "64"}, {"synth_per_image", "3"}, {"checkpoint_every", "0"}},
                                    extra_train);
  return path;
}

}  // namespace cprtrain
