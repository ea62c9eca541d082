// Post-processing on the map's device (the tensor frame path, core/tensor_frame.h):
// the blur, the threshold and the rectangular closing (and the erosion when
// no hole filling sits between them) run as tensor ops where the map was
// stitched; the rest (foreground gate, hole filling, minimum area, regions)
// stays on the CPU on the downloaded uint8 mask, as core/postproc does it.
//
// What comes down per frame: three scalars (map maximum, "any pixel left", all finite); only
// when a pixel is left, the uint8 mask and the blurred float map (the region
// scores read it). Every step replays OpenCV's arithmetic and borders, so the
// Detection equals postprocess(cv::Mat...) up to float summation order in the
// blur (tests/engine/test_postproc_tensor.cpp measures it).
#pragma once
#include <opencv2/core.hpp>
#include <torch/types.h>

#include "core/postproc.h"
#include "core/profile.h"
#include "core/tile_layout.h"

namespace advad {

// [H,W] float32 map -> [H,W] uint8 mask, 255 where map >= threshold (the
// threshold rounded to float32, as cv::compare on a CV_32F map); NaN never passes.
torch::Tensor threshold_tensor(const torch::Tensor& map, double threshold);

// cv::dilate / cv::erode / cv::morphologyEx(MORPH_CLOSE) with a kw x kh MORPH_RECT
// kernel, the default anchor (kw/2, kh/2, also for even sizes) and the default
// border (pixels outside the frame never count), on a [H,W] uint8 0/255 mask:
// separable running maxima (log2 k passes per axis). kw or kh <= 0: the mask unchanged.
torch::Tensor dilate_rect_tensor(const torch::Tensor& mask, int kw, int kh);
torch::Tensor erode_rect_tensor(const torch::Tensor& mask, int kw, int kh);
torch::Tensor close_rect_tensor(const torch::Tensor& mask, int kw, int kh);

// Bytes a device post-processing moved to the host (bench, tests).
struct PostprocTransfers {
  // mask + blurred map (+ the pre-closing mask when the fill fallback fires; + the
  // frame map when this call was the first to need it on the host: no blur, CPU fallback)
  double bytes_down = 0;
  double scalar_bytes = 0;  // the synchronising scalars (map maximum, any pixel left, all finite)
  bool on_device = false;   // false: fell back to the CPU chain on AnomalyMap::host_map()
};

// postprocess() for a stitched map: on map.device_map's device when it is set
// (the tensor path), else exactly postprocess(map.map, ...). Falls back to the
// CPU chain when the device cannot replay it (non-finite map maximum, a blur
// kernel wider than the map). Throws what postprocess() throws.
Detection postprocess(const AnomalyMap& map, double threshold, const PostprocSpec& spec,
                      const cv::Mat& frame_rgb = cv::Mat(), PostprocTransfers* transfers = nullptr);

}  // namespace advad
