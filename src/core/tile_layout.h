// TileLayout: the tiles of one frame (pyramid levels, grids, overlap), and the
// batch/stitch operations that move pixels and maps between frame and tiles.
#pragma once
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <torch/types.h>
#include <vector>

#include "core/profile.h"

namespace advad {

struct Tile {
  cv::Rect rect;   // in frame pixels
  int level = 0;   // index into TilingSpec::levels
  int row = 0, col = 0;
};

struct TileLayout {
  int frame_width = 0, frame_height = 0;
  std::vector<Tile> tiles;
  MergeMode merge = MergeMode::Paste;
  BlendMode blend = BlendMode::None;
};

// Exact integer grids as the seed: tile w = W / cols (floor), the last column
// and row take the leftover pixels, no overlap when spec.overlap == 0. With
// overlap o, tiles grow to share o * tile size with their neighbours, stay
// inside the frame, and still cover it. Throws InputError on impossible sizes.
TileLayout make_tile_layout(int frame_width, int frame_height, const TilingSpec& spec);

// Pixel layout of a frame handed to the core (what the video caps say).
enum class PixelFormat { RGB, BGR, RGBx, BGRx, RGBA, BGRA, xRGB, xBGR, ARGB, ABGR, GRAY8 };
int channels_of(PixelFormat f);

// Convert any supported frame to 8-bit RGB (3 channels). Gray is replicated.
cv::Mat to_rgb(const cv::Mat& frame, PixelFormat format);

// Crop every tile of `frame_rgb` (8UC3 RGB), resize to the model input
// (InputSpec: filter, then centre crop), normalise, and stack into one float
// batch [B,3,H,W] on `device`.
torch::Tensor make_batch(const cv::Mat& frame_rgb, const TileLayout& layout, const InputSpec& input,
                         const torch::Device& device);

// AnomalyMap::host_map()'s download, shared by the copies of one map.
struct AnomalyMapHostCache {
  std::mutex mutex;
  cv::Mat map;
  double bytes_down = 0;
};

// Per-tile scored output of a model (see core/model.h).
struct AnomalyMap {
  // CV_32F, frame size, model score units. Empty when the map was stitched on
  // a device (device_map set): readers of pixels call host_map().
  cv::Mat map;
  float score = 0.f;  // frame score: max over tile scores
  // stitch_torch only: the map [H,W] float32 where it was stitched (the model's
  // device), so post-processing and the map health check run there and a frame
  // nobody draws or writes never downloads its float map (core/postproc_tensor.h).
  torch::Tensor device_map;

  // The map on the host: `map` when set, else device_map downloaded on the first
  // call (one download for all copies of this map; safe from several threads).
  const cv::Mat& host_map() const;
  // Bytes host_map() downloaded so far (0 for maps stitched on the CPU).
  double host_bytes_down() const;
  // The map's maximum: minMaxLoc on the host map when there is one, else one
  // scalar from the device (the map must be finite: check_map rejects others).
  double max_value() const;

  std::shared_ptr<AnomalyMapHostCache> host_cache = std::make_shared<AnomalyMapHostCache>();
};

// Stitch per-tile maps (each [h,w] float, h/w = tile rect size, any device)
// into frame coordinates with the layout's merge mode; result on the CPU.
// CPU maps are merged with OpenCV, device maps with torch ops on the device.
AnomalyMap stitch(const std::vector<torch::Tensor>& tile_maps, const std::vector<float>& tile_scores,
                  const TileLayout& layout);
// The device (torch) path whatever the maps' device; for tests and benchmarks.
AnomalyMap stitch_torch(const std::vector<torch::Tensor>& tile_maps, const std::vector<float>& tile_scores,
                        const TileLayout& layout);

}  // namespace advad
