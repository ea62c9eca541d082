// Float TIFF maps through libtiff (OpenCV 4.6 cannot write or read float16
// TIFFs: it stores CV_16F as 16-bit integers). One page, one channel,
// uncompressed strips: what the MVTec AD 2 checker and server accept.
#pragma once
#include <opencv2/core.hpp>
#include <string>

namespace advad {

enum class MapDepth { Float16, Float32 };

// Writes a CV_32FC1 map as BitsPerSample 16 or 32, SampleFormat IEEEFP,
// SamplesPerPixel 1, no compression. Float16 rounds to nearest even.
// Throws InputError naming the file when it cannot be written.
void write_float_tiff(const std::string& path, const cv::Mat& map32, MapDepth depth = MapDepth::Float16);

// What a TIFF holds, as the official checker sees it (tifffile.imread shape/dtype).
struct TiffInfo {
  int width = 0, height = 0;
  int samples_per_pixel = 1;
  int bits_per_sample = 0;
  int sample_format = 1;  // 1 uint, 2 int, 3 IEEE float
  int pages = 1;
  bool is_float16() const { return sample_format == 3 && bits_per_sample == 16 && samples_per_pixel == 1 && pages == 1; }
  std::string describe() const;  // e.g. "float16 2448x2048, 1 channel, 1 page"
};
TiffInfo read_tiff_info(const std::string& path);

// Reads a one-channel TIFF (float16, float32, float64, uint8, uint16) as CV_32FC1.
// Throws InputError naming the file for missing, unreadable or multi-channel files.
cv::Mat read_float_tiff(const std::string& path);

// Reads the raw float16 bit patterns (CV_16UC1) of a float16 TIFF, so
// streaming evaluation needs no float round trip. InputError if not float16.
cv::Mat read_half_tiff_bits(const std::string& path);

}  // namespace advad
