// Post-processing on the map's device: blur, threshold, rectangular closing/erosion.
#include "core/postproc_tensor.h"

#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>
#include <torch/nn/functional/padding.h>

#include "core/error.h"
#include "core/tensor_frame.h"

namespace advad {

namespace {

namespace F = torch::nn::functional;

void check_mask_tensor(const torch::Tensor& mask, const char* what) {
  if (mask.dim() != 2 || mask.scalar_type() != torch::kUInt8 || mask.numel() == 0)
    throw InputError(std::string(what) + ": mask must be a non-empty [H,W] uint8 tensor");
}

// Running max of width k along `dim` of x (already padded by k - 1 along it):
// windows of width 1, 2, 4, ... by doubling, then two overlapping ones cover k.
// log2(k) + 1 elementwise passes instead of max_pool's k (an 80x80 closing on a
// 2448x2048 map: 7 + 7 passes, not 80 + 80).
torch::Tensor running_max(const torch::Tensor& x, int64_t dim, int64_t k) {
  const int64_t out = x.size(dim) - k + 1;
  torch::Tensor w = x;  // w[i] = max of x[i .. i+p-1]
  int64_t p = 1;
  while (2 * p <= k) {
    const int64_t n = w.size(dim) - p;
    w = torch::maximum(w.narrow(dim, 0, n), w.narrow(dim, p, n));
    p *= 2;
  }
  return torch::maximum(w.narrow(dim, 0, out), w.narrow(dim, k - p, out));
}

// Max over the kw x kh window whose top-left is (x - kw/2, y - kh/2), as OpenCV's
// morphology with its default anchor; `outside` pads the frame, so a value that
// never wins (0 for a max over 0/255) makes the border not count, as OpenCV's
// default border value does. A rectangle's max is separable: rows, then columns.
torch::Tensor window_max(const torch::Tensor& x2d, int kw, int kh, double outside) {
  torch::Tensor x = x2d.view({1, 1, x2d.size(0), x2d.size(1)});
  const int64_t ax = kw / 2, ay = kh / 2;
  if (kw > 1) {
    x = F::pad(x, F::PadFuncOptions({ax, kw - 1 - ax, 0, 0}).mode(torch::kConstant).value(outside));
    x = running_max(x, 3, kw);
  }
  if (kh > 1) {
    x = F::pad(x, F::PadFuncOptions({0, 0, ay, kh - 1 - ay}).mode(torch::kConstant).value(outside));
    x = running_max(x, 2, kh);
  }
  return x.reshape({x2d.size(0), x2d.size(1)});
}

cv::Mat download(const torch::Tensor& t, int type) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), type, c.data_ptr()).clone();
}

}  // namespace

torch::Tensor threshold_tensor(const torch::Tensor& map, double threshold) {
  if (map.dim() != 2 || map.scalar_type() != torch::kFloat32 || map.numel() == 0)
    throw InputError("threshold_tensor: map must be a non-empty [H,W] float32 tensor");
  // cv::compare converts the scalar to the map's depth (float32) first.
  return map.ge(static_cast<float>(threshold)).to(torch::kUInt8).mul_(255);
}

torch::Tensor dilate_rect_tensor(const torch::Tensor& mask, int kw, int kh) {
  check_mask_tensor(mask, "dilate_rect_tensor");
  if (kw <= 0 || kh <= 0) return mask;
  return window_max(mask, kw, kh, 0.0);
}

torch::Tensor erode_rect_tensor(const torch::Tensor& mask, int kw, int kh) {
  check_mask_tensor(mask, "erode_rect_tensor");
  if (kw <= 0 || kh <= 0) return mask;
  // min(x) = 255 - max(255 - x); outside the frame counts as 255 (never the minimum).
  return window_max(mask.bitwise_not(), kw, kh, 0.0).bitwise_not();
}

torch::Tensor close_rect_tensor(const torch::Tensor& mask, int kw, int kh) {
  if (kw <= 0 || kh <= 0) {
    check_mask_tensor(mask, "close_rect_tensor");
    return mask;
  }
  return erode_rect_tensor(dilate_rect_tensor(mask, kw, kh), kw, kh);
}

Detection postprocess(const AnomalyMap& am, double threshold, const PostprocSpec& spec, const cv::Mat& frame_rgb,
                      PostprocTransfers* transfers) {
  PostprocTransfers local;
  PostprocTransfers& tr = transfers ? *transfers : local;
  tr = PostprocTransfers();
  auto on_cpu = [&] {
    const double before = am.host_bytes_down();
    const cv::Mat& host = am.host_map();
    tr.bytes_down += am.host_bytes_down() - before;
    return postprocess(host, am.score, threshold, spec, frame_rgb);
  };
  if (!am.device_map.defined()) return on_cpu();
  const torch::Tensor& map = am.device_map;
  if (map.dim() != 2 || map.scalar_type() != torch::kFloat32 || map.numel() == 0)
    throw InputError("postprocess: the device map must be a non-empty [H,W] float32 tensor");
  const int H = static_cast<int>(map.size(0)), W = static_cast<int>(map.size(1));
  // The gate's frame checks first, so that the errors do not depend on the map.
  if (spec.foreground_gate) {
    if (frame_rgb.empty())
      throw InputError("postprocess: foreground_gate is on but no frame was given to compute the foreground from");
    if (frame_rgb.cols != W || frame_rgb.rows != H)
      throw InputError("postprocess: foreground_gate frame is " + std::to_string(frame_rgb.cols) + "x" +
                       std::to_string(frame_rgb.rows) + " but the map is " + std::to_string(W) + "x" +
                       std::to_string(H));
  }
  // Blur kernels the device does not replay (even: OpenCV's own error; wider than
  // the map: OpenCV's reflection of a reflection) keep the CPU chain.
  const int pad = spec.blur_ksize / 2;
  if (spec.blur_ksize > 0 && (spec.blur_ksize % 2 == 0 || pad >= H || pad >= W)) return on_cpu();

  torch::NoGradGuard no_grad;
  const torch::Tensor blurred = spec.blur_ksize > 0 ? gaussian_blur_tensor(map, spec.blur_ksize, spec.blur_sigma) : map;
  const torch::Tensor thresholded = threshold_tensor(blurred, threshold);
  // The gate (a k-means of the frame, CPU) must come before the closing, and the
  // hole filling (a flood fill, CPU) before the erosion: the device stops there.
  const bool close_here = !spec.foreground_gate;
  const bool erode_here = close_here && !spec.fill_holes;
  torch::Tensor mask = thresholded;
  if (close_here) mask = close_rect_tensor(mask, spec.close_w, spec.close_h);
  if (erode_here) mask = erode_rect_tensor(mask, spec.erode_w, spec.erode_h);
  // One synchronisation for the three answers (max() need not propagate NaN: asked apart).
  const torch::Tensor head = torch::stack({blurred.max(), mask.max().to(torch::kFloat32),
                                           torch::isfinite(blurred).all().to(torch::kFloat32)})
                                 .to(torch::kCPU);
  tr.scalar_bytes = static_cast<double>(head.numel() * head.element_size());
  const float max_value = head[0].item<float>();
  // NaN or inf in the map: the CPU chain's own rules (minMaxLoc, compare) decide.
  if (head[2].item<float>() <= 0.f || !std::isfinite(max_value)) return on_cpu();
  tr.on_device = true;

  Detection d;
  d.score = max_value;
  d.image_score = am.score;
  if (head[1].item<float>() <= 0.f) {
    // Nothing left: every later step keeps an empty mask empty (the flood fill
    // from (0,0) reaches all of it, the fallback needs white pixels).
    d.mask = cv::Mat::zeros(H, W, CV_8UC1);
    return d;
  }
  cv::Mat m = download(mask, CV_8UC1);
  tr.bytes_down += static_cast<double>(H) * W;
  if (spec.foreground_gate) {
    cv::bitwise_and(m, foreground_mask(frame_rgb, spec.foreground_dilate), m);
    m = spec.fill_holes ? close_and_fill(m, spec.close_w, spec.close_h, spec.fill_fallback)
                        : close_mask(m, spec.close_w, spec.close_h);
    m = erode_mask(m, spec.erode_w, spec.erode_h);
  } else if (spec.fill_holes) {
    // close_and_fill's fallback: an (almost) all-white fill keeps the step's input,
    // the mask before the closing, fetched only then.
    const cv::Mat filled = fill_holes(m);
    const double white = static_cast<double>(cv::countNonZero(filled)) / static_cast<double>(filled.total());
    if (white > spec.fill_fallback) {
      m = download(thresholded, CV_8UC1);
      tr.bytes_down += static_cast<double>(H) * W;
    } else {
      m = filled;
    }
    m = erode_mask(m, spec.erode_w, spec.erode_h);
  }
  m = remove_small_regions(m, spec.min_area);
  d.mask = m;
  if (cv::countNonZero(m) == 0) return d;
  // The region scores read the blurred map; without a blur the map itself (downloaded
  // here if no one has yet).
  cv::Mat scores;
  if (spec.blur_ksize <= 0) {
    const double before = am.host_bytes_down();
    scores = am.host_map();
    tr.bytes_down += am.host_bytes_down() - before;
  } else {
    scores = download(blurred, CV_32FC1);
    tr.bytes_down += 4.0 * H * W;
  }
  d.regions = find_regions(m, scores);
  d.anomalous = !d.regions.empty();
  return d;
}

}  // namespace advad
