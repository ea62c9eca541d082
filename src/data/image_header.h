// Image dimensions read from a file's header before any decoding, and the
// size limit every image reader checks first. A 69-byte PNG declaring
// 30000x30000 pixels made OpenCV allocate 2.7 GB before it found the data
// missing (issue 18, found by fuzzing); OpenCV's own limit (2^30 pixels)
// still lets such a file cost gigabytes per decode.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace advad {

// The most pixels (width x height) an input image may have: 2^28, e.g.
// 16384 x 16384 (an 8-bit RGB decode of 768 MiB).
constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// Width x height as the header of a PNG, JPEG, BMP or TIFF file declares it
// (TIFF: the first page; BMP: the height's absolute value); nullopt for other
// formats or a header too short to tell (the decoder then reports the file).
struct ImageDims {
  int64_t width = 0, height = 0;
};
std::optional<ImageDims> header_image_dims(const std::string& path);

// InputError "<what> <path> declares WxH pixels, ..." naming the limit when a
// side is not positive or the product exceeds kMaxImagePixels.
void check_image_dims(int64_t width, int64_t height, const std::string& path, const std::string& what);

// check_image_dims on header_image_size(path), when the header tells.
void check_image_header(const std::string& path, const std::string& what);

}  // namespace advad
