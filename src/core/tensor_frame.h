// The device-tensor frame path: a frame goes to the model's device once, and
// the tile crop, resize, centre crop and normalisation run there as tensor ops
// (make_batch in core/tile_layout.h does the same with OpenCV on the CPU).
// FrameScorer (engine/frame_scorer.h) takes this path when the model is not on
// the CPU, and on the CPU when asked (FramePath::Tensor; tests, `advad bench frame --path tensor`).
//
// The resize replays the OpenCV path's own integer arithmetic as separable tap
// tables (gathers + multiply-adds in int32, as the reference code; not interpolate()):
//   pil-bilinear: PIL's taps and 22-bit fixed-point weights, each pass rounded
//                 and clipped to 8 bits: bit-exact with pil_resize_bilinear;
//   linear:       cv::INTER_LINEAR's 11-bit coefficients (columns clamped at the
//                 border, rows not) and its vector code's rounding; an exact 2x
//                 downscale is OpenCV's area fast path: bit-exact with Debian's
//                 OpenCV 4.6 on x86-64 (measured; other builds may round otherwise);
//   area:         cv::INTER_AREA: the integer fast path, float32 area weights and
//                 sums in OpenCV's order, its linear variant on upscales.
// test_tensor_path measures each filter against the OpenCV path (docs/gpu.md has the numbers).
#pragma once
#include <array>
#include <map>
#include <mutex>
#include <opencv2/core.hpp>
#include <torch/types.h>
#include <tuple>
#include <vector>

#include "core/profile.h"
#include "core/tile_layout.h"

namespace advad {

// One separable resize pass along one axis (in -> out pixels): for tap k,
// out[o] += in[index[k][o]] * weight[k][o] (the filter rounds afterwards).
struct ResizePass {
  std::vector<torch::Tensor> index;   // K x [out] int64 on the device
  std::vector<torch::Tensor> weight;  // K x [out] on the device: int32 (fixed point) or float32 (area)
  bool identity = false;              // in == out: nothing to do
};

// Frame upload and tile batching on one device, with the tap tables cached per
// (filter, axis size in, size out) so a steady stream uploads only its frames.
class TensorFrameBatcher {
 public:
  explicit TensorFrameBatcher(const torch::Device& device);

  // One copy of the frame's bytes to the device (from pinned host memory when
  // the device is CUDA): [H, W, C] uint8, C = channels_of(format).
  torch::Tensor upload(const cv::Mat& frame, PixelFormat format) const;

  // frame: upload()'s tensor. Crops every tile, resizes it to the model input
  // (the profile's filter), centre-crops and normalises: [B,3,H,W] float32 on the device.
  torch::Tensor make_batch(const torch::Tensor& frame, PixelFormat format, const TileLayout& layout,
                           const InputSpec& input);

  // Resizes 8-bit pixels [N,3,h,w] (any integer or float dtype holding 0..255)
  // to [N,3,out_h,out_w] uint8 with `filter`, as resize_image does on the CPU.
  torch::Tensor resize(const torch::Tensor& pixels, int out_w, int out_h, ResizeFilter filter);

  const torch::Device& device() const { return device_; }

 private:
  // area_down: INTER_AREA's area weights (both axes shrink); rows: the vertical axis.
  const ResizePass& pass(ResizeFilter filter, int in, int out, bool area_down, bool rows);
  torch::Device device_;
  std::mutex mutex_;
  std::map<std::tuple<int, int, int, bool, bool>, ResizePass> cache_;
  std::map<int, torch::Tensor> channels_;  // per PixelFormat: the source channels of R, G, B
  torch::Tensor mean_, std_;               // [1,3,1,1] of the last InputSpec
  std::array<float, 6> norm_{};
};

// cv::GaussianBlur(map, ksize x ksize, sigma) with its default border
// (BORDER_REFLECT_101) as two 1-D convolutions on the map's device.
// map: [H,W] float32. ksize odd >= 1; sigma <= 0 derives it from ksize as OpenCV does.
torch::Tensor gaussian_blur_tensor(const torch::Tensor& map, int ksize, double sigma);

}  // namespace advad
