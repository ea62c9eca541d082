// The training set of one category: the defect-free images of <folder>/train/good
// (MVTec AD 2 and MVTec AD share this layout), cut into the seed's multi-scale
// tiles (every grid of `grids`, exact integer splits as the seed, plus the full
// image when full_image), each resized to the model input with the profile's
// filter (pil-bilinear = torchvision Resize on a PIL image) and centre-cropped
// when [input] crop is set. Resized tiles are kept in memory up to a budget;
// beyond it they are recomputed from the image file when needed.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>
#include <opencv2/core.hpp>
#include <torch/types.h>

#include "core/profile.h"

namespace advad::inpformer {

struct TrainDataSpec {
  std::string folder;                 // the category folder (holds train/good)
  std::vector<GridLevel> grids;       // tile grids COLSxROWS (may be empty)
  bool full_image = true;             // also train on the whole image
  InputSpec input;                    // size, filter, crop, normalisation
  size_t cache_bytes = size_t(4) << 30;
};

struct TileRef {
  size_t image = 0;  // index into TileDataset::images()
  cv::Rect rect;     // in image pixels
  std::string name;  // "<stem>_grid4x2_<row>_<col>" or "<stem>" (the seed's tile names)
};

class TileDataset {
 public:
  // Lists and decodes every training image once (checks them, computes the
  // tiles, fills the cache). InputError naming the folder when train/good is
  // missing or holds no image, or naming the file that does not decode.
  // `on_image(done, total)` reports progress (may be empty).
  explicit TileDataset(TrainDataSpec spec, const std::function<void(size_t, size_t)>& on_image = {});

  size_t size() const { return tiles_.size(); }
  const std::vector<std::string>& images() const { return images_; }
  const TileRef& ref(size_t i) const { return tiles_.at(i); }
  const TrainDataSpec& spec() const { return spec_; }
  size_t cached() const;  // tiles held in memory

  // Tile i at the model input (8-bit RGB, crop applied); a fresh copy.
  cv::Mat tile(size_t i) const;

 private:
  cv::Mat make_tile(const cv::Mat& image_rgb, const cv::Rect& rect) const;
  TrainDataSpec spec_;
  std::vector<std::string> images_;
  std::vector<TileRef> tiles_;
  std::vector<cv::Mat> cache_;  // empty Mat = not cached
};

// 8-bit RGB [H,W,3] images -> float batch [B,3,H,W]: /255, minus mean, over std
// (the same operations as core's make_batch).
torch::Tensor normalise_batch(const std::vector<cv::Mat>& rgb, const InputSpec& input);

}  // namespace advad::inpformer
