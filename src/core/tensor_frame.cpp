// The device-tensor frame path: upload once, crop/resize/normalise as tensor ops.
#include "core/tensor_frame.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <torch/nn/functional/padding.h>

#include "core/error.h"
#include "core/resize.h"

namespace advad {

namespace {

constexpr int kHalf22 = 1 << 21;

// Source channel of R, G, B in each pixel format (as to_rgb).
std::vector<int64_t> rgb_channels(PixelFormat f) {
  switch (f) {
    case PixelFormat::GRAY8: return {0, 0, 0};
    case PixelFormat::RGB:
    case PixelFormat::RGBx:
    case PixelFormat::RGBA: return {0, 1, 2};
    case PixelFormat::BGR:
    case PixelFormat::BGRx:
    case PixelFormat::BGRA: return {2, 1, 0};
    case PixelFormat::xRGB:
    case PixelFormat::ARGB: return {1, 2, 3};
    case PixelFormat::xBGR:
    case PixelFormat::ABGR: return {3, 2, 1};
  }
  return {0, 1, 2};
}

// Tap tables (K x out) into tensors on the device.
// Integer weights (PIL, INTER_LINEAR) as int32: every sum fits (PIL: < 255 * 2^22 * 1.x;
// OpenCV: < 255 * 2048 * 2048), as in their own int32 code. Area weights as float32.
ResizePass make_pass(const std::vector<std::vector<int64_t>>& idx, const std::vector<std::vector<double>>& w,
                     const torch::Device& device, torch::ScalarType dtype = torch::kInt32) {
  ResizePass p;
  for (size_t k = 0; k < idx.size(); ++k) {
    p.index.push_back(torch::tensor(idx[k], torch::kInt64).to(device));
    p.weight.push_back(torch::tensor(w[k], torch::kFloat64).to(device, dtype));
  }
  return p;
}

// PIL bilinear taps (resize.cpp's integers).
ResizePass pil_pass(int in, int out, const torch::Device& device) {
  if (in == out) {
    ResizePass p;
    p.identity = true;
    return p;
  }
  const PilTaps t = pil_bilinear_taps(in, out);
  std::vector<std::vector<int64_t>> idx(t.ksize, std::vector<int64_t>(out));
  std::vector<std::vector<double>> w(t.ksize, std::vector<double>(out));
  for (int o = 0; o < out; ++o)
    for (int k = 0; k < t.ksize; ++k) {
      const bool used = k < t.count[o];
      idx[k][o] = used ? t.first[o] + k : t.first[o];
      w[k][o] = used ? t.weights[static_cast<size_t>(o) * t.ksize + k] : 0.0;
    }
  return make_pass(idx, w, device);
}

// cv::resize INTER_LINEAR coefficients (imgproc/resize.cpp, 8-bit: short
// weights of INTER_RESIZE_COEF_SCALE = 2048); `area` = INTER_AREA's upscale variant;
// `rows`: the vertical axis, whose border coefficients OpenCV leaves unclamped.
ResizePass cv_linear_pass(int in, int out, bool area, bool rows, const torch::Device& device) {
  const double inv_scale = static_cast<double>(out) / in;
  const double scale = 1.0 / inv_scale;
  std::vector<std::vector<int64_t>> idx(2, std::vector<int64_t>(out));
  std::vector<std::vector<double>> w(2, std::vector<double>(out));
  for (int dx = 0; dx < out; ++dx) {
    float fx;
    int sx;
    if (!area) {
      fx = static_cast<float>((dx + 0.5) * scale - 0.5);
      sx = static_cast<int>(std::floor(fx));
      fx -= static_cast<float>(sx);
    } else {
      sx = static_cast<int>(std::floor(dx * scale));
      fx = static_cast<float>((dx + 1) - (sx + 1) * inv_scale);
      fx = fx <= 0 ? 0.f : fx - static_cast<float>(std::floor(fx));
    }
    if (!rows) {
      // Columns: OpenCV clamps the coefficient at the borders (xofs/alpha).
      if (sx < 0) fx = 0.f, sx = 0;
      if (sx >= in - 1) fx = 0.f, sx = in - 1;
    }
    // Rows keep their coefficients; the row indices are clipped into the image.
    idx[0][dx] = std::min(std::max(sx, 0), in - 1);
    idx[1][dx] = std::min(std::max(sx + 1, 0), in - 1);
    w[0][dx] = static_cast<double>(std::lrint((1.f - fx) * 2048.f));
    w[1][dx] = static_cast<double>(std::lrint(fx * 2048.f));
  }
  return make_pass(idx, w, device);
}

// cv::resize INTER_AREA downscale weights (computeResizeAreaTab), as float32 values.
ResizePass cv_area_pass(int in, int out, const torch::Device& device) {
  const double scale = 1.0 / (static_cast<double>(out) / in);  // as OpenCV: 1 / inv_scale
  std::vector<std::vector<std::pair<int64_t, double>>> taps(out);
  size_t K = 1;
  for (int dx = 0; dx < out; ++dx) {
    const double fsx1 = dx * scale, fsx2 = fsx1 + scale;
    const double cell = std::min(scale, in - fsx1);
    int sx1 = static_cast<int>(std::ceil(fsx1)), sx2 = static_cast<int>(std::floor(fsx2));
    sx2 = std::min(sx2, in - 1);
    sx1 = std::min(sx1, sx2);
    auto& t = taps[dx];
    if (sx1 - fsx1 > 1e-3) t.push_back({sx1 - 1, static_cast<float>((sx1 - fsx1) / cell)});
    for (int sx = sx1; sx < sx2; ++sx) t.push_back({sx, static_cast<float>(1.0 / cell)});
    const double tail = std::min(std::min(fsx2 - sx2, 1.0), cell);
    if (tail > 1e-3) t.push_back({sx2, static_cast<float>(tail / cell)});
    K = std::max(K, t.size());
  }
  std::vector<std::vector<int64_t>> idx(K, std::vector<int64_t>(out));
  std::vector<std::vector<double>> w(K, std::vector<double>(out));
  for (int o = 0; o < out; ++o)
    for (size_t k = 0; k < K; ++k) {
      const bool used = k < taps[o].size();
      idx[k][o] = used ? taps[o][k].first : (taps[o].empty() ? 0 : taps[o][0].first);
      w[k][o] = used ? taps[o][k].second : 0.0;
    }
  return make_pass(idx, w, device, torch::kFloat32);
}

// x [N,C,h,w] (uint8 or int32 pixels, or float32 for area); one pass along dim (2: rows, 3: columns).
// The resized axis is moved to the front first: gathering whole rows of memory is
// several times faster on the CPU than gathering along the innermost axis.
torch::Tensor apply_pass(const torch::Tensor& x, const ResizePass& p, int64_t dim) {
  if (p.identity) return x;
  const torch::Tensor front = x.movedim(dim, 0).contiguous();
  torch::Tensor acc;
  for (size_t k = 0; k < p.index.size(); ++k) {
    torch::Tensor t = front.index_select(0, p.index[k]) * p.weight[k].view({-1, 1, 1, 1});
    acc = acc.defined() ? acc.add_(t) : t;
  }
  return acc.movedim(0, dim);
}

// (acc + 2^21) >> 22 clipped to 0..255 (int32 in, int32 out).
torch::Tensor fixed_point_to_u8(const torch::Tensor& acc) {
  return acc.add(kHalf22).__rshift__(22).clamp_(0, 255);
}

// OpenCV's vertical INTER_LINEAR step on the horizontal pass's integer sums D
// ([N,3,in_h,out_w]; VResizeLinear with VResizeLinearVec_32s8u): its vector code
// computes ((D0 >> 4) * b0 >> 16) + ((D1 >> 4) * b1 >> 16), then (+2) >> 2 with
// saturation. Measured against Debian's OpenCV 4.6: every value of a row takes
// this form, row tails included (test_tensor_path: 0 differing pixels on odd
// widths from 3 to 771 values), not the scalar (D0 * b0 + D1 * b1 + 2^21) >> 22.
torch::Tensor cv_linear_vertical(const torch::Tensor& D, const ResizePass& py) {
  const torch::Tensor D0 = D.index_select(2, py.index[0]), D1 = D.index_select(2, py.index[1]);
  const torch::Tensor b0 = py.weight[0].view({1, 1, -1, 1}), b1 = py.weight[1].view({1, 1, -1, 1});
  auto hi = [](const torch::Tensor& d, const torch::Tensor& b) {
    return d.__rshift__(4).mul_(b).__rshift__(16);
  };
  return (hi(D0, b0) + hi(D1, b1)).add_(2).__rshift__(2).clamp_(0, 255);
}

}  // namespace

TensorFrameBatcher::TensorFrameBatcher(const torch::Device& device) : device_(device) {}

torch::Tensor TensorFrameBatcher::upload(const cv::Mat& frame, PixelFormat format) const {
  const int C = channels_of(format);
  if (frame.empty() || frame.depth() != CV_8U)
    throw InputError("tensor path: frame must be a non-empty 8-bit image");
  if (frame.channels() != C)
    throw InputError("tensor path: frame has " + std::to_string(frame.channels()) + " channels, its format needs " +
                     std::to_string(C));
  const int64_t H = frame.rows, W = frame.cols;
  if (device_.is_cpu()) {
    // A view of the caller's pixels; make_batch copies what it reads.
    return torch::from_blob(frame.data, {H, W, C}, {static_cast<int64_t>(frame.step[0]), C, 1}, torch::kUInt8);
  }
  // One host->device copy from page-locked memory (asynchronous; LibTorch's
  // host allocator keeps the buffer until the copy is done).
  torch::Tensor pinned = torch::empty({H, W, C}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
  cv::Mat dst(static_cast<int>(H), static_cast<int>(W), frame.type(), pinned.data_ptr<uint8_t>());
  frame.copyTo(dst);
  return pinned.to(device_, /*non_blocking=*/true);
}

const ResizePass& TensorFrameBatcher::pass(ResizeFilter filter, int in, int out, bool area_down, bool rows) {
  const auto key = std::make_tuple(static_cast<int>(filter), in, out, area_down, rows);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  ResizePass p;
  switch (filter) {
    case ResizeFilter::PilBilinear: p = pil_pass(in, out, device_); break;
    case ResizeFilter::Linear: p = cv_linear_pass(in, out, false, rows, device_); break;
    case ResizeFilter::Area: p = area_down ? cv_area_pass(in, out, device_) : cv_linear_pass(in, out, true, rows, device_); break;
  }
  return cache_.emplace(key, std::move(p)).first->second;
}

torch::Tensor TensorFrameBatcher::resize(const torch::Tensor& pixels, int out_w, int out_h, ResizeFilter filter) {
  if (pixels.dim() != 4) throw InputError("tensor resize: pixels must be [N,C,h,w]");
  const int in_h = static_cast<int>(pixels.size(2)), in_w = static_cast<int>(pixels.size(3));
  if (in_w == out_w && in_h == out_h) return pixels.to(torch::kUInt8);  // resize_image returns the tile as it is
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache_.size() > 256) cache_.clear();  // tile sizes changing all the time: keep it bounded
  const torch::Tensor x = pixels.to(device_, torch::kUInt8);
  switch (filter) {
    case ResizeFilter::PilBilinear: {
      // Horizontal pass, rounded to 8 bits, then vertical, rounded: as PIL.
      const ResizePass& px = pass(filter, in_w, out_w, false, false);
      torch::Tensor t = px.identity ? x : fixed_point_to_u8(apply_pass(x, px, 3));
      const ResizePass& py = pass(filter, in_h, out_h, false, true);
      if (!py.identity) t = fixed_point_to_u8(apply_pass(t, py, 2));
      return t.to(torch::kUInt8);
    }
    case ResizeFilter::Linear: {
      // Integer sums of 11-bit weights per axis: OpenCV's fixed point. An exact 2x
      // downscale is OpenCV's INTER_AREA fast path, (sum of 2x2 + 2) >> 2: the scalar formula.
      const ResizePass& px = pass(filter, in_w, out_w, false, false);
      const ResizePass& py = pass(filter, in_h, out_h, false, true);
      const torch::Tensor D = apply_pass(x, px, 3);
      if (in_w == 2 * out_w && in_h == 2 * out_h) return fixed_point_to_u8(apply_pass(D, py, 2)).to(torch::kUInt8);
      return cv_linear_vertical(D, py).to(torch::kUInt8);
    }
    case ResizeFilter::Area: {
      const bool down = in_w >= out_w && in_h >= out_h;
      const ResizePass& px = pass(filter, in_w, out_w, down, false);
      const ResizePass& py = pass(filter, in_h, out_h, down, true);
      if (!down) return cv_linear_vertical(apply_pass(x, px, 3), py).to(torch::kUInt8);
      if (in_w % out_w == 0 && in_h % out_h == 0) {
        // OpenCV's fast path for integer factors: integer sums of kx x ky pixels;
        // 2x2 rounds (sum + 2) >> 2, the others sum * float(1 / area) to nearest even.
        const int kx = in_w / out_w, ky = in_h / out_h;
        const torch::Tensor sum =
            x.to(torch::kInt32).reshape({x.size(0), x.size(1), out_h, ky, out_w, kx}).sum({3, 5}, false, torch::kInt32);
        if (kx == 2 && ky == 2) return sum.add(2).__rshift__(2).clamp_(0, 255).to(torch::kUInt8);
        const float inv_area = 1.f / static_cast<float>(kx * ky);
        return sum.to(torch::kFloat32).mul_(inv_area).round_().clamp_(0, 255).to(torch::kUInt8);
      }
      // The general area path as OpenCV's ResizeArea_Invoker: float32 weights and
      // sums, taps in its order (row sums first), rounded to nearest even.
      auto pass_f32 = [](const torch::Tensor& v, const ResizePass& p, int64_t dim) {
        torch::Tensor acc;
        const torch::Tensor front = v.movedim(dim, 0).contiguous();
        for (size_t k = 0; k < p.index.size(); ++k) {
          torch::Tensor t = front.index_select(0, p.index[k]) * p.weight[k].view({-1, 1, 1, 1});
          acc = acc.defined() ? acc.add_(t) : t;
        }
        return acc.movedim(0, dim);
      };
      torch::Tensor acc = pass_f32(pass_f32(x.to(torch::kFloat32), px, 3), py, 2).round_();
      return acc.clamp_(0, 255).to(torch::kUInt8);
    }
  }
  return pixels.to(torch::kUInt8);
}

torch::Tensor TensorFrameBatcher::make_batch(const torch::Tensor& frame, PixelFormat format, const TileLayout& layout,
                                             const InputSpec& input) {
  if (frame.dim() != 3 || frame.scalar_type() != torch::kUInt8 || frame.size(2) != channels_of(format))
    throw InputError("tensor path: frame must be [H,W," + std::to_string(channels_of(format)) + "] uint8");
  if (frame.size(1) != layout.frame_width || frame.size(0) != layout.frame_height)
    throw InputError("make_batch: frame is " + std::to_string(frame.size(1)) + "x" + std::to_string(frame.size(0)) +
                     " but the tile layout was made for " + std::to_string(layout.frame_width) + "x" +
                     std::to_string(layout.frame_height));
  if (layout.tiles.empty()) throw InputError("make_batch: the tile layout has no tiles");
  const int64_t B = static_cast<int64_t>(layout.tiles.size());
  const torch::Device dev = frame.device();
  torch::Tensor channels, mean, stdv;
  {
    // Small constant tensors kept on the device: a steady stream uploads only its frames.
    std::lock_guard<std::mutex> lock(mutex_);
    torch::Tensor& ch = channels_[static_cast<int>(format)];
    if (!ch.defined() || ch.device() != dev) ch = torch::tensor(rgb_channels(format), torch::kInt64).to(dev);
    channels = ch;
    const std::array<float, 6> norm{input.mean[0], input.mean[1], input.mean[2], input.std[0], input.std[1], input.std[2]};
    if (!mean_.defined() || norm != norm_) {
      // The same float32 values as make_batch's torch::tensor({...}), where resize() puts the batch.
      mean_ = torch::tensor({input.mean[0], input.mean[1], input.mean[2]}).view({1, 3, 1, 1}).to(device_);
      std_ = torch::tensor({input.std[0], input.std[1], input.std[2]}).view({1, 3, 1, 1}).to(device_);
      norm_ = norm;
    }
    mean = mean_;
    stdv = std_;
  }
  // Tiles of one size (most of a grid level) are resized together.
  std::map<std::pair<int, int>, std::vector<int64_t>> groups;
  for (int64_t i = 0; i < B; ++i) {
    const cv::Rect& r = layout.tiles[static_cast<size_t>(i)].rect;
    groups[{r.width, r.height}].push_back(i);
  }
  std::vector<torch::Tensor> tiles(static_cast<size_t>(B));  // [3,out_h,out_w] uint8 views, layout order
  for (const auto& [size, members] : groups) {
    std::vector<torch::Tensor> crops;
    for (int64_t i : members) {
      const cv::Rect& r = layout.tiles[static_cast<size_t>(i)].rect;
      crops.push_back(frame.slice(0, r.y, r.y + r.height).slice(1, r.x, r.x + r.width).index_select(2, channels));
    }
    torch::Tensor stack = torch::stack(crops).permute({0, 3, 1, 2});  // [n,3,h,w]
    torch::Tensor resized = resize(stack, input.width, input.height, input.resize);
    if (input.crop > 0) {
      // torchvision CenterCrop: offsets rounded from (size - crop) / 2.
      const int x0 = static_cast<int>(std::lround((input.width - input.crop) / 2.0));
      const int y0 = static_cast<int>(std::lround((input.height - input.crop) / 2.0));
      resized = resized.slice(2, y0, y0 + input.crop).slice(3, x0, x0 + input.crop);
    }
    for (size_t j = 0; j < members.size(); ++j) tiles[static_cast<size_t>(members[j])] = resized[static_cast<int64_t>(j)];
  }
  const torch::Tensor u8 = torch::stack(tiles);  // [B,3,out_h,out_w], on the device
  // The same float ops as make_batch, so equal pixels give equal bits.
  torch::Tensor x = u8.to(torch::kFloat32).div_(255.0f);
  return x.sub_(mean).div_(stdv).contiguous();
}

torch::Tensor gaussian_blur_tensor(const torch::Tensor& map, int ksize, double sigma) {
  if (map.dim() != 2 || map.scalar_type() != torch::kFloat32)
    throw InputError("gaussian_blur_tensor: map must be [H,W] float32");
  if (ksize <= 0) return map;
  if (ksize % 2 == 0) throw InputError("gaussian_blur_tensor: ksize must be odd, got " + std::to_string(ksize));
  const int pad = ksize / 2;
  if (pad >= map.size(0) || pad >= map.size(1))
    throw InputError("gaussian_blur_tensor: a " + std::to_string(ksize) + "x" + std::to_string(ksize) +
                     " kernel needs a map larger than " + std::to_string(pad) + " pixels each way");
  const cv::Mat k = cv::getGaussianKernel(ksize, sigma, CV_32F);  // what GaussianBlur builds for float maps
  torch::Tensor kern = torch::from_blob(const_cast<float*>(k.ptr<float>()), {ksize}, torch::kFloat32).clone().to(map.device());
  namespace F = torch::nn::functional;
  torch::Tensor x = map.view({1, 1, map.size(0), map.size(1)});
  // BORDER_REFLECT_101 (OpenCV's default) is torch's "reflect".
  x = F::pad(x, F::PadFuncOptions({pad, pad, 0, 0}).mode(torch::kReflect));
  x = torch::conv2d(x, kern.view({1, 1, 1, ksize}));
  x = F::pad(x, F::PadFuncOptions({0, 0, pad, pad}).mode(torch::kReflect));
  x = torch::conv2d(x, kern.view({1, 1, ksize, 1}));
  return x.view({map.size(0), map.size(1)});
}

}  // namespace advad
