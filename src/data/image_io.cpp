#include "data/image_io.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "data/image_header.h"
#include "data/tiff_io.h"

namespace advad {
namespace fs = std::filesystem;
namespace {

std::string size_text(cv::Size s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

cv::Mat imread_checked(const std::string& path, int flags, const std::string& what) {
  if (!fs::exists(path)) throw InputError(what + " " + path + " does not exist");
  if (fs::is_directory(path)) throw InputError(what + " " + path + " is a folder, not an image file");
  check_image_header(path, what);  // before OpenCV allocates what the header declares
  cv::Mat m;
  try {
    m = cv::imread(path, flags);
  } catch (const cv::Exception&) {
    m.release();
  }
  if (m.empty())
    throw InputError("cannot read " + what + " " + path +
                     ": not a readable image (corrupt, empty or unsupported format); replace or remove the file");
  return m;
}

bool has_tiff_ext(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == ".tif" || e == ".tiff";
}

}  // namespace

cv::Mat read_image_rgb(const std::string& path) {
  cv::Mat bgr = imread_checked(path, cv::IMREAD_COLOR, "image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat read_binary_mask(const std::string& path, cv::Size expected) {
  cv::Mat m = imread_checked(path, cv::IMREAD_UNCHANGED, "mask");
  if (m.channels() == 3 || m.channels() == 4) {
    cv::Mat g;
    cv::cvtColor(m, g, m.channels() == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
    m = g;
  }
  if (!expected.empty() && m.size() != expected)
    throw InputError("mask " + path + " is " + size_text(m.size()) + " but its image/map is " + size_text(expected) +
                     "; masks must have the image's size");
  cv::Mat bin;
  cv::compare(m, 0, bin, cv::CMP_NE);  // 255 where non-zero
  bin /= 255;
  return bin;
}

cv::Mat read_map(const std::string& path) {
  if (has_tiff_ext(path)) return read_float_tiff(path);
  cv::Mat m = imread_checked(path, cv::IMREAD_UNCHANGED, "anomaly map");
  if (m.channels() != 1)
    throw InputError("anomaly map " + path + " has " + std::to_string(m.channels()) +
                     " channels; a map must be single-channel (gray PNG or float TIFF)");
  cv::Mat f;
  m.convertTo(f, CV_32F);
  return f;
}

PngHeader read_png_header(const std::string& path) {
  if (!fs::exists(path)) throw InputError("image " + path + " does not exist");
  std::ifstream f(path, std::ios::binary);
  unsigned char b[26] = {0};
  f.read(reinterpret_cast<char*>(b), sizeof b);
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (f.gcount() < 26 || std::memcmp(b, sig, 8) != 0 || std::memcmp(b + 12, "IHDR", 4) != 0)
    throw InputError("cannot read " + path + ": not a PNG file (bad signature or header)");
  auto be32 = [&](int o) { return static_cast<int>((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]); };
  PngHeader h;
  h.width = be32(16);
  h.height = be32(20);
  h.bit_depth = b[24];
  h.color_type = b[25];
  return h;
}

cv::Size image_size(const std::string& path) {
  const std::string e = fs::path(path).extension().string();
  if (e == ".png" || e == ".PNG") {
    PngHeader h = read_png_header(path);
    return {h.width, h.height};
  }
  if (has_tiff_ext(path)) {
    TiffInfo i = read_tiff_info(path);
    return {i.width, i.height};
  }
  return imread_checked(path, cv::IMREAD_UNCHANGED, "image").size();
}

void ensure_parent_dir(const std::string& path) {
  fs::path p = fs::path(path).parent_path();
  if (p.empty()) return;
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) throw InputError("cannot create folder " + p.string() + ": " + ec.message());
}

void write_image(const std::string& path, const cv::Mat& image) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, image);
  } catch (const cv::Exception& e) {
    throw InputError("cannot write " + path + ": " + e.what());
  }
  if (!ok) throw InputError("cannot write " + path + ": check that the folder exists and is writable");
}

void write_rgb_image(const std::string& path, const cv::Mat& img) {
  ensure_parent_dir(path);
  if (img.channels() != 3) return write_image(path, img);
  cv::Mat bgr;
  cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
  write_image(path, bgr);
}

}  // namespace advad
