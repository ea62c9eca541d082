// libFuzzer target: image decoding (data/image_io.cpp, data/tiff_io.cpp): the
// header readers (PNG IHDR, TIFF tags) and the decoders behind read_image_rgb,
// read_binary_mask and read_map. The file gets the extension its magic bytes
// suggest, so the header paths run. A rejection must be an InputError; a PNG
// that decodes must have the size its IHDR announced (other formats may be
// turned by an EXIF orientation on decoding).
#include <cstdint>
#include <cstring>
#include <string>

#include <opencv2/core.hpp>

#include "core/error.h"
#include "data/image_io.h"
#include "fuzz_input.h"

namespace {

std::string name_for(const uint8_t* d, size_t n) {
  if (n >= 4 && std::memcmp(d, "\x89PNG", 4) == 0) return "fuzz.png";
  if (n >= 4 && (std::memcmp(d, "II*", 4) == 0 || std::memcmp(d, "MM\0*", 4) == 0)) return "fuzz.tif";
  if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8) return "fuzz.jpg";
  return "fuzz.bmp";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace advad;
  const std::string path = fuzz::input_file(data, size, name_for(data, size));
  cv::Size header{-1, -1};
  try {
    header = image_size(path);
  } catch (const InputError&) {
  }
  try {
    const cv::Mat rgb = read_image_rgb(path);
    if (rgb.type() != CV_8UC3 || rgb.empty()) fuzz::fail("read_image_rgb returned a non-RGB image");
    if (path.size() > 4 && path.substr(path.size() - 4) == ".png" && header.width >= 0 && rgb.size() != header) fuzz::fail("decoded size differs from the header's");
  } catch (const InputError&) {
  }
  try {
    const cv::Mat m = read_binary_mask(path);
    if (m.type() != CV_8UC1) fuzz::fail("read_binary_mask returned a non-8-bit mask");
  } catch (const InputError&) {
  }
  try {
    const cv::Mat m = read_map(path);
    if (m.type() != CV_32FC1) fuzz::fail("read_map returned a non-float map");
  } catch (const InputError&) {
  }
  return 0;
}
