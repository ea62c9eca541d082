// Image, mask and map files with errors that name the file and the fix.
#pragma once
#include <opencv2/core.hpp>
#include <string>

namespace advad {

// 8-bit RGB (CV_8UC3, R first). Gray and 16-bit images are converted.
cv::Mat read_image_rgb(const std::string& path);

// A ground-truth or predicted mask as CV_8UC1 0/1 (any non-zero pixel -> 1).
// If expected is non-empty, a different size is an InputError naming both sizes.
cv::Mat read_binary_mask(const std::string& path, cv::Size expected = cv::Size());

// An anomaly map as CV_32FC1: .tif/.tiff through libtiff (float16/32/64,
// uint8/16), anything else through OpenCV (8/16-bit gray, values unscaled).
cv::Mat read_map(const std::string& path);

// PNG header facts (IHDR), read without decoding the pixels.
struct PngHeader {
  int width = 0, height = 0;
  int bit_depth = 0;   // 1, 2, 4, 8, 16
  int color_type = 0;  // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
};
// InputError naming the file when it is missing or not a PNG.
PngHeader read_png_header(const std::string& path);

// Width x height of an image file: from the header for PNG and TIFF, else by decoding.
cv::Size image_size(const std::string& path);

// Writes an 8-bit image (PNG for .png); InputError naming the file on failure.
void write_image(const std::string& path, const cv::Mat& image);

// Writes an 8-bit RGB (R first) or gray image, creating its folder: the
// generated datasets' writer (OpenCV's imwrite wants BGR).
void write_rgb_image(const std::string& path, const cv::Mat& rgb_or_gray);

// Creates the parent folder of `path` (InputError when that fails).
void ensure_parent_dir(const std::string& path);

}  // namespace advad
