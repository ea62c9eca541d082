// Tile layouts (seed grids and overlapping pyramids), frame -> batch, maps -> frame.
#include "core/tile_layout.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/resize.h"

namespace advad {

namespace {

// Start and length of tile i of n along an axis of `size` pixels.
// No overlap: the seed's split, floor(size/n) each, the last takes the rest.
// Overlap o: n equal tiles of length L with neighbours sharing about o*L,
// first at 0 and last ending at size, so the frame stays covered.
std::pair<int, int> span(int size, int n, int i, double overlap) {
  if (overlap <= 0.0 || n == 1) {
    int base = size / n;
    int start = i * base;
    return {start, i == n - 1 ? size - start : base};
  }
  int len = static_cast<int>(std::ceil(size / (n - (n - 1) * overlap)));
  len = std::min(len, size);
  int start = static_cast<int>(std::lround(static_cast<double>(i) * (size - len) / (n - 1)));
  return {start, len};
}

}  // namespace

TileLayout make_tile_layout(int frame_width, int frame_height, const TilingSpec& spec) {
  if (frame_width <= 0 || frame_height <= 0)
    throw InputError("tile layout: bad frame size " + std::to_string(frame_width) + "x" +
                     std::to_string(frame_height));
  if (spec.levels.empty()) throw InputError("tile layout: no tiling levels given");
  if (!(spec.overlap >= 0.0 && spec.overlap < 0.5))
    throw InputError("tile layout: overlap " + std::to_string(spec.overlap) + " outside [0, 0.5)");
  TileLayout L;
  L.frame_width = frame_width;
  L.frame_height = frame_height;
  L.merge = spec.merge;
  L.blend = spec.blend;
  for (size_t lv = 0; lv < spec.levels.size(); ++lv) {
    const GridLevel& g = spec.levels[lv];
    if (g.cols < 1 || g.rows < 1 || g.cols > frame_width || g.rows > frame_height)
      throw InputError("tile layout: grid " + std::to_string(g.cols) + "x" + std::to_string(g.rows) +
                       " does not fit a " + std::to_string(frame_width) + "x" + std::to_string(frame_height) +
                       " frame (need 1 <= cols <= width and 1 <= rows <= height)");
    for (int r = 0; r < g.rows; ++r) {
      auto [y, h] = span(frame_height, g.rows, r, spec.overlap);
      for (int c = 0; c < g.cols; ++c) {
        auto [x, w] = span(frame_width, g.cols, c, spec.overlap);
        Tile t;
        t.rect = cv::Rect(x, y, w, h);
        t.level = static_cast<int>(lv);
        t.row = r;
        t.col = c;
        L.tiles.push_back(t);
      }
    }
  }
  return L;
}

int channels_of(PixelFormat f) {
  switch (f) {
    case PixelFormat::GRAY8: return 1;
    case PixelFormat::RGB:
    case PixelFormat::BGR: return 3;
    default: return 4;
  }
}

cv::Mat to_rgb(const cv::Mat& frame, PixelFormat format) {
  if (frame.empty() || frame.depth() != CV_8U)
    throw InputError("to_rgb: frame must be a non-empty 8-bit image");
  if (frame.channels() != channels_of(format))
    throw InputError("to_rgb: frame has " + std::to_string(frame.channels()) + " channels, its format needs " +
                     std::to_string(channels_of(format)));
  cv::Mat out(frame.size(), CV_8UC3);
  // Source channel of R, G, B for each packed format.
  int r = 0, g = 1, b = 2;
  switch (format) {
    case PixelFormat::GRAY8: cv::cvtColor(frame, out, cv::COLOR_GRAY2RGB); return out;
    case PixelFormat::RGB: return frame.clone();
    case PixelFormat::BGR:
    case PixelFormat::BGRx:
    case PixelFormat::BGRA: r = 2, g = 1, b = 0; break;
    case PixelFormat::RGBx:
    case PixelFormat::RGBA: r = 0, g = 1, b = 2; break;
    case PixelFormat::xRGB:
    case PixelFormat::ARGB: r = 1, g = 2, b = 3; break;
    case PixelFormat::xBGR:
    case PixelFormat::ABGR: r = 3, g = 2, b = 1; break;
  }
  const int from_to[] = {r, 0, g, 1, b, 2};
  cv::mixChannels(&frame, 1, &out, 1, from_to, 3);
  return out;
}

torch::Tensor make_batch(const cv::Mat& frame_rgb, const TileLayout& layout, const InputSpec& input,
                         const torch::Device& device) {
  if (frame_rgb.type() != CV_8UC3) throw InputError("make_batch: frame must be 8-bit RGB (CV_8UC3)");
  if (frame_rgb.cols != layout.frame_width || frame_rgb.rows != layout.frame_height)
    throw InputError("make_batch: frame is " + std::to_string(frame_rgb.cols) + "x" + std::to_string(frame_rgb.rows) +
                     " but the tile layout was made for " + std::to_string(layout.frame_width) + "x" +
                     std::to_string(layout.frame_height));
  if (layout.tiles.empty()) throw InputError("make_batch: the tile layout has no tiles");
  const int out_w = input.crop > 0 ? input.crop : input.width;
  const int out_h = input.crop > 0 ? input.crop : input.height;
  const int64_t B = static_cast<int64_t>(layout.tiles.size());
  // Resampling runs on the CPU on uint8 so it is bit-exact with the training
  // resize; the normalised float batch then goes to the device in one copy.
  torch::Tensor u8 = torch::empty({B, out_h, out_w, 3}, torch::kUInt8);
  uint8_t* base = u8.data_ptr<uint8_t>();
  cv::parallel_for_(cv::Range(0, static_cast<int>(B)), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      cv::Mat tile = frame_rgb(layout.tiles[i].rect);
      cv::Mat resized = resize_image(tile, cv::Size(input.width, input.height), input.resize);
      if (input.crop > 0) {
        // torchvision CenterCrop: offsets rounded from (size - crop) / 2.
        int x0 = static_cast<int>(std::lround((input.width - input.crop) / 2.0));
        int y0 = static_cast<int>(std::lround((input.height - input.crop) / 2.0));
        resized = resized(cv::Rect(x0, y0, input.crop, input.crop));
      }
      cv::Mat dst(out_h, out_w, CV_8UC3, base + static_cast<size_t>(i) * out_h * out_w * 3);
      resized.copyTo(dst);
    }
  });
  torch::Tensor mean = torch::tensor({input.mean[0], input.mean[1], input.mean[2]}).view({1, 3, 1, 1});
  torch::Tensor stdv = torch::tensor({input.std[0], input.std[1], input.std[2]}).view({1, 3, 1, 1});
  torch::Tensor x = u8.to(device).permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f);
  return x.sub_(mean.to(device)).div_(stdv.to(device)).contiguous();
}

namespace {

// Separable raised-cosine weight, never exactly zero so single-covered border pixels keep their value.
torch::Tensor hann_weights(int h, int w, const torch::Device& device) {
  auto win = [&](int n) {
    torch::Tensor i = torch::arange(n, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    return (0.5 - 0.5 * torch::cos(2.0 * M_PI * (i + 0.5) / n)).clamp_min(1e-3);
  };
  return win(h).view({h, 1}) * win(w).view({1, w});
}

}  // namespace

namespace {

// The same raised-cosine window as hann_weights, as an n x 1 cv::Mat.
cv::Mat hann_window(int n) {
  cv::Mat w(n, 1, CV_32F);
  for (int i = 0; i < n; ++i)
    w.at<float>(i) = std::max(static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * (i + 0.5) / n)), 1e-3f);
  return w;
}

// CPU path: OpenCV on views of the tile maps (torch's strided copy_ into a
// frame-sized tensor is ~10x slower on the CPU).
cv::Mat stitch_cpu(const std::vector<torch::Tensor>& maps, const TileLayout& layout) {
  const int H = layout.frame_height, W = layout.frame_width;
  cv::Mat acc(H, W, CV_32F, cv::Scalar(layout.merge == MergeMode::Max ? -INFINITY : 0.f));
  cv::Mat weight = layout.merge == MergeMode::Mean ? cv::Mat::zeros(H, W, CV_32F) : cv::Mat();
  for (size_t i = 0; i < maps.size(); ++i) {
    const cv::Rect& r = layout.tiles[i].rect;
    const cv::Mat m(r.height, r.width, CV_32F, maps[i].data_ptr<float>());
    cv::Mat dst = acc(r);
    switch (layout.merge) {
      case MergeMode::Paste: m.copyTo(dst); break;
      case MergeMode::Max: cv::max(dst, m, dst); break;
      case MergeMode::Mean: {
        if (layout.blend == BlendMode::Hann) {
          const cv::Mat w = hann_window(r.height) * hann_window(r.width).t();  // outer product
          dst += m.mul(w);
          weight(r) += w;
        } else {
          dst += m;
          weight(r) += 1.f;
        }
        break;
      }
    }
  }
  if (layout.merge == MergeMode::Mean) {
    cv::Mat covered = weight > 0;
    cv::divide(acc, cv::max(weight, 1e-12), acc);
    acc.setTo(0.f, ~covered);
  }
  if (layout.merge == MergeMode::Max) acc.setTo(0.f, acc == -INFINITY);  // pixels no tile covers
  return acc;
}

// Device path: the same with torch ops where the maps are; the caller downloads it.
torch::Tensor stitch_device(const std::vector<torch::Tensor>& maps, const TileLayout& layout) {
  const torch::Device dev = maps[0].device();
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  const int64_t H = layout.frame_height, W = layout.frame_width;
  torch::Tensor acc = layout.merge == MergeMode::Max ? torch::full({H, W}, -INFINITY, opts) : torch::zeros({H, W}, opts);
  torch::Tensor weight = layout.merge == MergeMode::Mean ? torch::zeros({H, W}, opts) : torch::Tensor();
  for (size_t i = 0; i < maps.size(); ++i) {
    const cv::Rect& r = layout.tiles[i].rect;
    const torch::Tensor& m = maps[i];
    torch::Tensor dst = acc.slice(0, r.y, r.y + r.height).slice(1, r.x, r.x + r.width);
    switch (layout.merge) {
      case MergeMode::Paste: dst.copy_(m); break;
      case MergeMode::Max: dst.copy_(torch::maximum(dst, m)); break;
      case MergeMode::Mean: {
        torch::Tensor w = layout.blend == BlendMode::Hann ? hann_weights(r.height, r.width, dev)
                                                          : torch::ones({r.height, r.width}, opts);
        dst.add_(m * w);
        weight.slice(0, r.y, r.y + r.height).slice(1, r.x, r.x + r.width).add_(w);
        break;
      }
    }
  }
  if (layout.merge == MergeMode::Mean) acc = acc / weight.clamp_min(1e-12);
  if (layout.merge == MergeMode::Max) acc.masked_fill_(acc == -INFINITY, 0.0);
  return acc;
}

}  // namespace

namespace {
AnomalyMap stitch_impl(const std::vector<torch::Tensor>& tile_maps, const std::vector<float>& tile_scores,
                       const TileLayout& layout, bool force_torch);
}  // namespace

const cv::Mat& AnomalyMap::host_map() const {
  if (!map.empty() || !device_map.defined()) return map;
  std::lock_guard<std::mutex> lock(host_cache->mutex);
  if (host_cache->map.empty()) {
    const torch::Tensor cpu = device_map.to(torch::kCPU, torch::kFloat32).contiguous();
    host_cache->map = cv::Mat(static_cast<int>(cpu.size(0)), static_cast<int>(cpu.size(1)), CV_32F, cpu.data_ptr<float>())
                          .clone();
    host_cache->bytes_down = static_cast<double>(host_cache->map.total() * host_cache->map.elemSize());
  }
  return host_cache->map;
}

double AnomalyMap::host_bytes_down() const {
  std::lock_guard<std::mutex> lock(host_cache->mutex);
  return host_cache->bytes_down;
}

double AnomalyMap::max_value() const {
  double hi = 0;
  if (map.empty() && device_map.defined()) {
    {
      std::lock_guard<std::mutex> lock(host_cache->mutex);
      if (!host_cache->map.empty()) {
        cv::minMaxLoc(host_cache->map, nullptr, &hi);
        return hi;
      }
    }
    return device_map.max().item<double>();
  }
  if (!map.empty()) cv::minMaxLoc(map, nullptr, &hi);
  return hi;
}

AnomalyMap stitch_torch(const std::vector<torch::Tensor>& tile_maps, const std::vector<float>& tile_scores,
                        const TileLayout& layout) {
  return stitch_impl(tile_maps, tile_scores, layout, true);
}

AnomalyMap stitch(const std::vector<torch::Tensor>& tile_maps, const std::vector<float>& tile_scores,
                  const TileLayout& layout) {
  return stitch_impl(tile_maps, tile_scores, layout, false);
}

namespace {

AnomalyMap stitch_impl(const std::vector<torch::Tensor>& tile_maps, const std::vector<float>& tile_scores,
                  const TileLayout& layout, bool force_torch) {
  if (tile_maps.size() != layout.tiles.size())
    throw InputError("stitch: got " + std::to_string(tile_maps.size()) + " maps for " +
                     std::to_string(layout.tiles.size()) + " tiles");
  if (!tile_scores.empty() && tile_scores.size() != layout.tiles.size())
    throw InputError("stitch: got " + std::to_string(tile_scores.size()) + " scores for " +
                     std::to_string(layout.tiles.size()) + " tiles");
  AnomalyMap out;
  if (layout.tiles.empty()) {
    out.map = cv::Mat::zeros(layout.frame_height, layout.frame_width, CV_32F);
    return out;
  }
  const torch::Device dev = tile_maps[0].device();
  std::vector<torch::Tensor> maps;
  for (size_t i = 0; i < tile_maps.size(); ++i) {
    const cv::Rect& r = layout.tiles[i].rect;
    torch::Tensor m = tile_maps[i];
    if (m.dim() == 3 && m.size(0) == 1) m = m.squeeze(0);
    if (m.dim() != 2 || m.size(0) != r.height || m.size(1) != r.width)
      throw InputError("stitch: map of tile " + std::to_string(i) + " has shape " + std::string(c10::str(m.sizes())) +
                       ", expected [" + std::to_string(r.height) + ", " + std::to_string(r.width) + "]");
    maps.push_back(m.to(dev, torch::kFloat32).contiguous());
  }
  if (dev.is_cpu() && !force_torch) {
    out.map = stitch_cpu(maps, layout);
  } else {
    // The map stays where it was stitched; host_map() downloads it for the readers of pixels.
    out.device_map = stitch_device(maps, layout);
  }
  float score = -INFINITY;
  for (float s : tile_scores) score = std::max(score, s);
  out.score = tile_scores.empty() ? 0.f : score;
  return out;
}

}  // namespace

}  // namespace advad
