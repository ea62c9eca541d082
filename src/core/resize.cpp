// PIL-compatible antialiased bilinear resize, and map resizing as torch does it.
#include "core/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace advad {

namespace {

// PIL keeps filter weights as 22-bit fixed point so that 8-bit pixel sums fit an int32.
constexpr int kPrecisionBits = 32 - 8 - 2;

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// For downscales the triangle is stretched by the scale factor, so every input
// pixel contributes (antialiasing); for upscales it is the plain bilinear tent.
}  // namespace

PilTaps pil_bilinear_taps(int in_size, int out_size) {
  PilTaps t;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.ksize, 0);
  std::vector<double> w(t.ksize);
  for (int o = 0; o < out_size; ++o) {
    const double center = (o + 0.5) * scale;
    // Truncation toward zero, then clamping, as the reference does.
    int lo = static_cast<int>(center - support + 0.5);
    int hi = static_cast<int>(center + support + 0.5);
    lo = std::max(lo, 0);
    hi = std::min(hi, in_size);
    const int n = hi - lo;
    double sum = 0.0;
    for (int i = 0; i < n; ++i) {
      w[i] = triangle((i + lo - center + 0.5) / filterscale);
      sum += w[i];
    }
    for (int i = 0; i < n; ++i) {
      double v = sum != 0.0 ? w[i] / sum : w[i];
      t.weights[static_cast<size_t>(o) * t.ksize + i] =
          static_cast<int>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    t.first[o] = lo;
    t.count[o] = n;
  }
  return t;
}

namespace {

inline uint8_t clip8(int acc) {
  if (acc <= 0) return 0;
  int v = acc >> kPrecisionBits;
  return static_cast<uint8_t>(v > 255 ? 255 : v);
}

// One pass along x: every output pixel is a weighted sum of a run of input pixels.
cv::Mat pass_horizontal(const cv::Mat& src, int out_w) {
  const PilTaps t = pil_bilinear_taps(src.cols, out_w);
  const int cn = src.channels();
  cv::Mat dst(src.rows, out_w, src.type());
  cv::parallel_for_(cv::Range(0, src.rows), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) {
      const uint8_t* in = src.ptr<uint8_t>(y);
      uint8_t* out = dst.ptr<uint8_t>(y);
      for (int o = 0; o < out_w; ++o) {
        const int* k = &t.weights[static_cast<size_t>(o) * t.ksize];
        const uint8_t* p = in + static_cast<size_t>(t.first[o]) * cn;
        for (int c = 0; c < cn; ++c) {
          int acc = 1 << (kPrecisionBits - 1);
          for (int i = 0; i < t.count[o]; ++i) acc += p[i * cn + c] * k[i];
          out[o * cn + c] = clip8(acc);
        }
      }
    }
  });
  return dst;
}

cv::Mat pass_vertical(const cv::Mat& src, int out_h) {
  const PilTaps t = pil_bilinear_taps(src.rows, out_h);
  const int row_len = src.cols * src.channels();
  cv::Mat dst(out_h, src.cols, src.type());
  cv::parallel_for_(cv::Range(0, out_h), [&](const cv::Range& r) {
    std::vector<int> acc(row_len);
    for (int o = r.start; o < r.end; ++o) {
      const int* k = &t.weights[static_cast<size_t>(o) * t.ksize];
      std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
      for (int i = 0; i < t.count[o]; ++i) {
        const uint8_t* in = src.ptr<uint8_t>(t.first[o] + i);
        const int w = k[i];
        for (int j = 0; j < row_len; ++j) acc[j] += in[j] * w;
      }
      uint8_t* out = dst.ptr<uint8_t>(o);
      for (int j = 0; j < row_len; ++j) out[j] = clip8(acc[j]);
    }
  });
  return dst;
}

torch::Tensor as_4d(const torch::Tensor& map, const char* what) {
  if (!map.is_floating_point())
    throw InputError(std::string(what) + ": map must be a float tensor, got " + std::string(map.dtype().name()));
  switch (map.dim()) {
    case 2: return map.unsqueeze(0).unsqueeze(0);
    case 3: return map.unsqueeze(0);
    case 4: return map;
    default:
      throw InputError(std::string(what) + ": map must have 2, 3 or 4 dims, got " + std::to_string(map.dim()));
  }
}

torch::Tensor restore_rank(const torch::Tensor& out, int64_t rank) {
  if (rank == 2) return out.squeeze(0).squeeze(0);
  if (rank == 3) return out.squeeze(0);
  return out;
}

}  // namespace

cv::Mat pil_resize_bilinear(const cv::Mat& src, cv::Size size) {
  if (src.depth() != CV_8U || src.channels() < 1 || src.channels() > 4 || src.empty())
    throw InputError("pil_resize_bilinear: needs a non-empty 8-bit image with 1..4 channels");
  if (size.width <= 0 || size.height <= 0)
    throw InputError("pil_resize_bilinear: bad target size " + std::to_string(size.width) + "x" +
                     std::to_string(size.height));
  // Horizontal pass first, then vertical, each rounded to 8 bits, as the reference.
  cv::Mat tmp = size.width != src.cols ? pass_horizontal(src, size.width) : src;
  cv::Mat out = size.height != src.rows ? pass_vertical(tmp, size.height) : tmp;
  return out.data == src.data ? src.clone() : out;
}

cv::Mat resize_image(const cv::Mat& src, cv::Size size, ResizeFilter filter) {
  if (src.size() == size) return src;
  switch (filter) {
    case ResizeFilter::PilBilinear: return pil_resize_bilinear(src, size);
    case ResizeFilter::Linear: {
      cv::Mat out;
      cv::resize(src, out, size, 0, 0, cv::INTER_LINEAR);
      return out;
    }
    case ResizeFilter::Area: {
      cv::Mat out;
      cv::resize(src, out, size, 0, 0, cv::INTER_AREA);
      return out;
    }
  }
  return src;
}

torch::Tensor resize_map_align_corners(const torch::Tensor& map, int64_t h, int64_t w) {
  torch::Tensor m = as_4d(map, "resize_map_align_corners");
  if (m.size(2) == h && m.size(3) == w) return map;
  return restore_rank(at::upsample_bilinear2d(m, {h, w}, true), map.dim());
}

torch::Tensor resize_map_bilinear(const torch::Tensor& map, int64_t h, int64_t w) {
  torch::Tensor m = as_4d(map, "resize_map_bilinear");
  if (m.size(2) == h && m.size(3) == w) return map;
  return restore_rank(at::upsample_bilinear2d(m, {h, w}, false), map.dim());
}

}  // namespace advad
