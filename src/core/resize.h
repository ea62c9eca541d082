// Resizing that matches the reference code the models were trained with.
#pragma once
#include <opencv2/core.hpp>
#include <torch/types.h>
#include <vector>

#include "core/profile.h"

namespace advad {

// PIL's Image.resize(size, BILINEAR) on 8-bit images (= torchvision Resize on a
// PIL image): triangle filter whose support grows with the downscale factor
// (antialiasing), horizontal pass then vertical pass, 22-bit fixed-point
// weights, each pass rounded to uint8. `src` is CV_8UC1..CV_8UC4.
cv::Mat pil_resize_bilinear(const cv::Mat& src, cv::Size size);

// The taps of one pass of pil_resize_bilinear (in_size -> out_size pixels): for
// output pixel o, count[o] input pixels from first[o] with the fixed-point
// weights weights[o * ksize + i] (22 fractional bits; a pass adds 2^21 and
// shifts right by 22, clipping to 0..255). Shared with the tensor path
// (core/tensor_frame.h), which applies the same integers.
struct PilTaps {
  std::vector<int> first, count;
  std::vector<int> weights;  // out_size * ksize
  int ksize = 0;
};
PilTaps pil_bilinear_taps(int in_size, int out_size);
constexpr int kPilPrecisionBits = 22;

// Resize an 8-bit image with the profile's filter (pil-bilinear | linear | area).
cv::Mat resize_image(const cv::Mat& src, cv::Size size, ResizeFilter filter);

// Bilinear resize of a float map with align_corners=True (torch
// interpolate(..., align_corners=True); what INP-Former uses for its maps).
// map: [h,w], [C,h,w] or [B,C,h,w]; returns the same rank with the new size.
torch::Tensor resize_map_align_corners(const torch::Tensor& map, int64_t h, int64_t w);

// The same with align_corners=False (half-pixel centres, = cv::INTER_LINEAR on upscale).
torch::Tensor resize_map_bilinear(const torch::Tensor& map, int64_t h, int64_t w);

}  // namespace advad
