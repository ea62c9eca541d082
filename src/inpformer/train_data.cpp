#include "inpformer/train_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/resize.h"
#include "core/tile_layout.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/image_list.h"

namespace fs = std::filesystem;

namespace advad::inpformer {

namespace {

std::vector<std::string> list_train_images(const std::string& folder) {
  // A category folder (MVTec AD 2 / AD: <category>/train/good), or else a plain folder of images.
  std::error_code ec;
  fs::path dir = fs::path(folder) / "train" / "good";
  if (!fs::is_directory(dir, ec)) dir = folder;
  if (!fs::is_directory(dir, ec))
    throw InputError("training data: " + folder +
                     " is not a folder; [train] data must name a category folder in MVTec AD 2 or MVTec AD "
                     "layout (<category>/train/good/*.png) or a folder of defect-free images");
  std::vector<std::string> out;
  for (const auto& p : list_images(dir)) out.push_back(p.string());  // data/image_list.h's rule, sorted
  if (out.empty())
    throw InputError("training data: " + dir.string() +
                     " holds no image (.png .jpg .jpeg .bmp .tif .tiff .webp); put the defect-free training "
                     "images there");
  return out;
}

}  // namespace

TileDataset::TileDataset(TrainDataSpec spec, const std::function<void(size_t, size_t)>& on_image)
    : spec_(std::move(spec)) {
  images_ = list_train_images(spec_.folder);
  TilingSpec tiling;
  tiling.levels = spec_.grids;
  if (spec_.full_image) tiling.levels.push_back(GridLevel{1, 1});
  if (tiling.levels.empty())
    throw InputError("training data: no tiles to train on (no grids and full_image = false)");
  const int out_w = spec_.input.crop > 0 ? spec_.input.crop : spec_.input.width;
  const int out_h = spec_.input.crop > 0 ? spec_.input.crop : spec_.input.height;
  const size_t tile_bytes = static_cast<size_t>(out_w) * out_h * 3;
  size_t used = 0;
  for (size_t i = 0; i < images_.size(); ++i) {
    const cv::Mat img = read_image_rgb(images_[i]);  // InputError naming the file
    TileLayout layout;
    try {
      layout = make_tile_layout(img.cols, img.rows, tiling);
    } catch (const InputError& e) {
      throw InputError("training data: " + images_[i] + ": " + e.what());
    }
    const std::string stem = fs::path(images_[i]).stem().string();
    for (const Tile& t : layout.tiles) {
      const GridLevel& g = tiling.levels[t.level];
      TileRef r;
      r.image = i;
      r.rect = t.rect;
      const bool full = spec_.full_image && t.level + 1 == static_cast<int>(tiling.levels.size());
      r.name = full ? stem
                    : stem + "_grid" + std::to_string(g.cols) + "x" + std::to_string(g.rows) + "_" +
                          std::to_string(t.row) + "_" + std::to_string(t.col);
      tiles_.push_back(r);
      if (used + tile_bytes <= spec_.cache_bytes) {
        cache_.push_back(make_tile(img, t.rect));
        used += tile_bytes;
      } else {
        cache_.emplace_back();
      }
    }
    if (on_image) on_image(i + 1, images_.size());
  }
}

size_t TileDataset::cached() const {
  return static_cast<size_t>(std::count_if(cache_.begin(), cache_.end(), [](const cv::Mat& m) { return !m.empty(); }));
}

cv::Mat TileDataset::make_tile(const cv::Mat& image_rgb, const cv::Rect& rect) const {
  const InputSpec& in = spec_.input;
  cv::Mat resized = resize_image(image_rgb(rect), cv::Size(in.width, in.height), in.resize);
  if (in.crop > 0) {
    // torchvision CenterCrop offsets, as core's make_batch.
    const int x0 = static_cast<int>(std::lround((in.width - in.crop) / 2.0));
    const int y0 = static_cast<int>(std::lround((in.height - in.crop) / 2.0));
    resized = resized(cv::Rect(x0, y0, in.crop, in.crop)).clone();
  }
  return resized;
}

cv::Mat TileDataset::tile(size_t i) const {
  if (!cache_.at(i).empty()) return cache_[i].clone();
  const TileRef& r = tiles_.at(i);
  return make_tile(read_image_rgb(images_[r.image]), r.rect);
}

torch::Tensor normalise_batch(const std::vector<cv::Mat>& rgb, const InputSpec& input) {
  if (rgb.empty()) throw InputError("normalise_batch: empty batch");
  const int h = rgb[0].rows, w = rgb[0].cols;
  torch::Tensor u8 = torch::empty({static_cast<int64_t>(rgb.size()), h, w, 3}, torch::kUInt8);
  for (size_t i = 0; i < rgb.size(); ++i) {
    if (rgb[i].type() != CV_8UC3 || rgb[i].rows != h || rgb[i].cols != w)
      throw InputError("normalise_batch: every item must be 8-bit RGB of one size");
    cv::Mat dst(h, w, CV_8UC3, u8[static_cast<int64_t>(i)].data_ptr<uint8_t>());
    rgb[i].copyTo(dst);
  }
  const torch::Tensor mean = torch::tensor({input.mean[0], input.mean[1], input.mean[2]}).view({1, 3, 1, 1});
  const torch::Tensor stdv = torch::tensor({input.std[0], input.std[1], input.std[2]}).view({1, 3, 1, 1});
  torch::Tensor x = u8.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f);
  return x.sub_(mean).div_(stdv).contiguous();
}

}  // namespace advad::inpformer
