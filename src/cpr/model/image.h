// CPR preprocessing (official dataset.read_image + test_transform): OpenCV
// read as 3-channel BGR (greyscale replicated), BGR->RGB, cv::resize
// INTER_LINEAR of the 8-bit image to the input size, /255, ImageNet
// mean/std. No crop.
#pragma once
#include <array>
#include <string>
#include <vector>
#include <opencv2/core.hpp>
#include <torch/types.h>

namespace advad::cpr {

inline constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};

// [3,h,w] float32 normalised tensor from an 8-bit BGR image.
torch::Tensor cpr_input_from_bgr(const cv::Mat& bgr, int64_t h, int64_t w,
                                 const std::array<float, 3>& mean = kImageNetMean,
                                 const std::array<float, 3>& std = kImageNetStd);

// Same from a file; throws InputError naming the file when it cannot be read.
torch::Tensor load_cpr_input(const std::string& path, int64_t h, int64_t w,
                             const std::array<float, 3>& mean = kImageNetMean,
                             const std::array<float, 3>& std = kImageNetStd);

// Image files under dir, recursively (data/image_list.h's rule: png, jpg,
// jpeg, bmp, tif, tiff, webp; hidden names skipped), as paths relative to dir
// sorted like Python's sorted() (byte order). Throws InputError when dir is
// missing or holds no image, or for a dangling link named like an image.
std::vector<std::string> list_training_images(const std::string& dir);

}  // namespace advad::cpr
