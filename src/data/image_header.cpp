// Header-only size reading for PNG, JPEG, BMP and TIFF (see image_header.h).
#include "data/image_header.h"

#include <cstring>
#include <fstream>

#include "core/error.h"
#include "data/tiff_io.h"

namespace advad {

namespace {

uint32_t read_be(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
uint32_t read_le(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The first SOFn segment's height and width (markers walked by their lengths).
std::optional<ImageDims> jpeg_dims(std::ifstream& f) {
  f.seekg(2);
  unsigned char m[2], seg[7];
  while (f.read(reinterpret_cast<char*>(m), 2)) {
    if (m[0] != 0xFF) return std::nullopt;
    if (m[1] == 0xFF) {  // fill byte: the marker follows
      f.seekg(-1, std::ios::cur);
      continue;
    }
    if (m[1] == 0x01 || (m[1] >= 0xD0 && m[1] <= 0xD8)) continue;  // no length
    if (m[1] == 0xD9 || m[1] == 0xDA) return std::nullopt;         // end / scan before any frame
    unsigned char len[2];
    if (!f.read(reinterpret_cast<char*>(len), 2)) return std::nullopt;
    const uint32_t n = read_be(len, 2);
    if (n < 2) return std::nullopt;
    const bool sof = m[1] >= 0xC0 && m[1] <= 0xCF && m[1] != 0xC4 && m[1] != 0xC8 && m[1] != 0xCC;
    if (sof) {
      if (n < 7 || !f.read(reinterpret_cast<char*>(seg), 5)) return std::nullopt;
      return ImageDims{read_be(seg + 3, 2), read_be(seg + 1, 2)};
    }
    f.seekg(n - 2, std::ios::cur);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageDims> header_image_dims(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[26] = {0};
  f.read(reinterpret_cast<char*>(h), sizeof h);
  const auto got = f.gcount();
  f.clear();
  if (got >= 24 && std::memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0 && std::memcmp(h + 12, "IHDR", 4) == 0) {
    return ImageDims{read_be(h + 16, 4), read_be(h + 20, 4)};
  }
  if (got >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return jpeg_dims(f);
  if (got >= 26 && h[0] == 'B' && h[1] == 'M') {
    const uint32_t dib = read_le(h + 14, 4);
    if (dib == 12) return ImageDims{read_le(h + 18, 2), read_le(h + 20, 2)};
    const int64_t w = static_cast<int32_t>(read_le(h + 18, 4)), ht = static_cast<int32_t>(read_le(h + 22, 4));
    return ImageDims{w, ht < 0 ? -ht : ht};  // a negative height: rows stored top-down
  }
  if (got >= 4 && (std::memcmp(h, "II*\0", 4) == 0 || std::memcmp(h, "MM\0*", 4) == 0)) {
    const TiffInfo i = read_tiff_info(path);
    return ImageDims{i.width, i.height};
  }
  return std::nullopt;
}

void check_image_dims(int64_t width, int64_t height, const std::string& path, const std::string& what) {
  if (width > 0 && height > 0 && width <= kMaxImagePixels / height) return;
  throw InputError(what + " " + path + " declares " + std::to_string(width) + "x" + std::to_string(height) +
                   " pixels in its header; accepted: sides >= 1 and at most " + std::to_string(kMaxImagePixels) +
                   " pixels (2^28, e.g. 16384x16384); a corrupt or truncated file? replace or remove it");
}

void check_image_header(const std::string& path, const std::string& what) {
  if (const auto d = header_image_dims(path)) check_image_dims(d->width, d->height, path, what);
}

}  // namespace advad
