#include "data/tiff_io.h"

#include <tiffio.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "data/half.h"
#include "data/image_header.h"

namespace advad {
namespace {

// libtiff prints to stderr by default; we report errors ourselves.
void silence_libtiff() {
  static bool done = false;
  if (done) return;
  TIFFSetErrorHandler(nullptr);
  TIFFSetWarningHandler(nullptr);
  done = true;
}

struct TiffCloser {
  void operator()(TIFF* t) const {
    if (t) TIFFClose(t);
  }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

TiffPtr open_for_read(const std::string& path) {
  silence_libtiff();
  if (!std::filesystem::exists(path)) throw InputError("anomaly map " + path + " does not exist");
  TiffPtr t(TIFFOpen(path.c_str(), "r"));
  if (!t) throw InputError("cannot read " + path + ": not a valid TIFF file (corrupt or another format)");
  return t;
}

TiffInfo info_of(TIFF* t) {
  TiffInfo i;
  uint32_t w = 0, h = 0;
  uint16_t spp = 1, bps = 1, fmt = SAMPLEFORMAT_UINT;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt);
  i.width = static_cast<int>(w);
  i.height = static_cast<int>(h);
  i.samples_per_pixel = spp;
  i.bits_per_sample = bps;
  i.sample_format = fmt;
  return i;
}

std::string dtype_name(const TiffInfo& i) {
  std::string kind = i.sample_format == SAMPLEFORMAT_IEEEFP ? "float" : i.sample_format == SAMPLEFORMAT_INT ? "int" : "uint";
  return kind + std::to_string(i.bits_per_sample);
}

// Reads all rows of a one-channel image into a Mat of `type` (bytes per pixel must match).
cv::Mat read_rows(TIFF* t, const std::string& path, const TiffInfo& info, int type) {
  if (TIFFIsTiled(t)) {
    // Tiled files are rare for maps; let libtiff's RGBA path not apply to floats: refuse clearly.
    throw InputError("cannot read " + path + ": tiled TIFFs are not supported; write maps as strips (advad predict does)");
  }
  uint16_t planar = PLANARCONFIG_CONTIG;
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  check_image_dims(info.width, info.height, path, "TIFF");  // before allocating what the tags declare
  cv::Mat m(info.height, info.width, type);
  const tmsize_t need = static_cast<tmsize_t>(m.elemSize()) * info.width;
  if (TIFFScanlineSize(t) != need)
    throw InputError("cannot read " + path + ": unexpected TIFF row size (" + std::to_string(TIFFScanlineSize(t)) +
                     " bytes, expected " + std::to_string(need) + ")");
  for (int y = 0; y < info.height; ++y)
    if (TIFFReadScanline(t, m.ptr(y), static_cast<uint32_t>(y), 0) < 0)
      throw InputError("cannot read " + path + ": truncated or corrupt TIFF data at row " + std::to_string(y));
  return m;
}

void require_single_channel(const TiffInfo& i, const std::string& path) {
  if (i.samples_per_pixel != 1)
    throw InputError("anomaly map " + path + " has " + std::to_string(i.samples_per_pixel) +
                     " channels; a map must be a single-channel image");
  if (i.width <= 0 || i.height <= 0) throw InputError("anomaly map " + path + " is empty");
}

}  // namespace

std::string TiffInfo::describe() const {
  TiffInfo c = *this;
  return dtype_name(c) + " " + std::to_string(width) + "x" + std::to_string(height) + ", " +
         std::to_string(samples_per_pixel) + (samples_per_pixel == 1 ? " channel, " : " channels, ") +
         std::to_string(pages) + (pages == 1 ? " page" : " pages");
}

void write_float_tiff(const std::string& path, const cv::Mat& map32, MapDepth depth) {
  silence_libtiff();
  if (map32.empty() || map32.type() != CV_32FC1)
    throw InputError("write_float_tiff(" + path + "): the map must be a non-empty single-channel float32 image");
  TiffPtr t(TIFFOpen(path.c_str(), "w"));
  if (!t) throw InputError("cannot write " + path + ": check that the folder exists and is writable");
  const int bits = depth == MapDepth::Float16 ? 16 : 32;
  TIFFSetField(t.get(), TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(map32.cols));
  TIFFSetField(t.get(), TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(map32.rows));
  TIFFSetField(t.get(), TIFFTAG_SAMPLESPERPIXEL, static_cast<uint16_t>(1));
  TIFFSetField(t.get(), TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(bits));
  TIFFSetField(t.get(), TIFFTAG_SAMPLEFORMAT, static_cast<uint16_t>(SAMPLEFORMAT_IEEEFP));
  TIFFSetField(t.get(), TIFFTAG_PHOTOMETRIC, static_cast<uint16_t>(PHOTOMETRIC_MINISBLACK));
  TIFFSetField(t.get(), TIFFTAG_PLANARCONFIG, static_cast<uint16_t>(PLANARCONFIG_CONTIG));
  TIFFSetField(t.get(), TIFFTAG_COMPRESSION, static_cast<uint16_t>(COMPRESSION_NONE));
  TIFFSetField(t.get(), TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t.get(), 0));
  std::vector<uint16_t> row16(depth == MapDepth::Float16 ? map32.cols : 0);
  for (int y = 0; y < map32.rows; ++y) {
    const float* src = map32.ptr<float>(y);
    void* buf;
    if (depth == MapDepth::Float16) {
      for (int x = 0; x < map32.cols; ++x) row16[x] = float_to_half(src[x]);
      buf = row16.data();
    } else {
      buf = const_cast<float*>(src);
    }
    if (TIFFWriteScanline(t.get(), buf, static_cast<uint32_t>(y), 0) < 0)
      throw InputError("cannot write " + path + ": write failed at row " + std::to_string(y) + " (disk full?)");
  }
  if (!TIFFWriteDirectory(t.get())) throw InputError("cannot write " + path + ": finishing the TIFF failed (disk full?)");
}

TiffInfo read_tiff_info(const std::string& path) {
  TiffPtr t = open_for_read(path);
  TiffInfo i = info_of(t.get());
  i.pages = static_cast<int>(TIFFNumberOfDirectories(t.get()));
  return i;
}

cv::Mat read_float_tiff(const std::string& path) {
  TiffPtr t = open_for_read(path);
  const TiffInfo i = info_of(t.get());
  require_single_channel(i, path);
  if (i.sample_format == SAMPLEFORMAT_IEEEFP && i.bits_per_sample == 16)
    return from_half_bits(read_rows(t.get(), path, i, CV_16UC1));
  cv::Mat raw, out;
  if (i.sample_format == SAMPLEFORMAT_IEEEFP && i.bits_per_sample == 32) return read_rows(t.get(), path, i, CV_32FC1);
  if (i.sample_format == SAMPLEFORMAT_IEEEFP && i.bits_per_sample == 64)
    raw = read_rows(t.get(), path, i, CV_64FC1);
  else if (i.sample_format == SAMPLEFORMAT_UINT && i.bits_per_sample == 8)
    raw = read_rows(t.get(), path, i, CV_8UC1);
  else if (i.sample_format == SAMPLEFORMAT_UINT && i.bits_per_sample == 16)
    raw = read_rows(t.get(), path, i, CV_16UC1);
  else
    throw InputError("anomaly map " + path + " stores " + dtype_name(i) +
                     " samples; supported are float16, float32, float64, uint8 and uint16");
  raw.convertTo(out, CV_32F);
  return out;
}

cv::Mat read_half_tiff_bits(const std::string& path) {
  TiffPtr t = open_for_read(path);
  const TiffInfo i = info_of(t.get());
  require_single_channel(i, path);
  if (!(i.sample_format == SAMPLEFORMAT_IEEEFP && i.bits_per_sample == 16))
    throw InputError("anomaly map " + path + " is " + dtype_name(i) + ", not float16");
  return read_rows(t.get(), path, i, CV_16UC1);
}

}  // namespace advad
