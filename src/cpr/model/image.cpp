#include "cpr/model/image.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "data/image_list.h"

namespace advad::cpr {

torch::Tensor cpr_input_from_bgr(const cv::Mat& bgr, int64_t h, int64_t w, const std::array<float, 3>& mean,
                                 const std::array<float, 3>& std) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw InputError("CPR input must be a non-empty 8-bit 3-channel image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  if (rgb.rows != h || rgb.cols != w) {
    cv::Mat resized;
    cv::resize(rgb, resized, cv::Size(static_cast<int>(w), static_cast<int>(h)), 0, 0, cv::INTER_LINEAR);
    rgb = resized;
  }
  if (!rgb.isContinuous()) rgb = rgb.clone();
  // torchvision ToTensor: float32(u8) / 255 (a division, not a multiply by 1/255).
  auto t = torch::from_blob(rgb.data, {h, w, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat) / 255.0f;
  // float32 (x - mean) / std per channel, as torchvision Normalize does.
  auto m = torch::tensor({mean[0], mean[1], mean[2]}, torch::kFloat).view({3, 1, 1});
  auto s = torch::tensor({std[0], std[1], std[2]}, torch::kFloat).view({3, 1, 1});
  return (t - m) / s;
}

torch::Tensor load_cpr_input(const std::string& path, int64_t h, int64_t w, const std::array<float, 3>& mean,
                             const std::array<float, 3>& std) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) throw InputError(path + ": cannot read the image (missing, unreadable or not an image)");
  return cpr_input_from_bgr(bgr, h, w, mean, std);
}

std::vector<std::string> list_training_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir + ": training image folder does not exist");
  std::vector<std::string> out;
  for (const auto& p : list_images(dir, {/*recursive=*/true, {}}))  // sorted by relative path
    out.push_back(p.lexically_relative(dir).generic_string());
  if (out.empty())
    throw InputError(dir + ": no training images (png, jpg, bmp, tif, webp) found; CPR needs at least one");
  return out;
}

}  // namespace advad::cpr
