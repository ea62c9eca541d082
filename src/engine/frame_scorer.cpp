#include "engine/frame_scorer.h"

#include <chrono>

#include "core/error.h"

namespace advad {

FramePath parse_frame_path(const std::string& name) {
  if (name == "auto") return FramePath::Auto;
  if (name == "opencv") return FramePath::OpenCV;
  if (name == "tensor") return FramePath::Tensor;
  throw InputError("frame path '" + name + "' is not valid; accepted: auto | opencv | tensor");
}

std::string to_string(FramePath path) {
  switch (path) {
    case FramePath::Auto: return "auto";
    case FramePath::OpenCV: return "opencv";
    case FramePath::Tensor: return "tensor";
  }
  return "auto";
}

FrameScorer::FrameScorer(std::shared_ptr<const Profile> profile, std::shared_ptr<Model> model, int batch_size,
                         FrameScorerOptions options)
    : profile_(std::move(profile)), model_(std::move(model)), batch_size_(batch_size < 0 ? 0 : batch_size) {
  path_ = options.path;
  if (path_ == FramePath::Auto) path_ = model_->device().is_cpu() ? FramePath::OpenCV : FramePath::Tensor;
  if (path_ == FramePath::Tensor) batcher_ = std::make_unique<TensorFrameBatcher>(model_->device());
}

AnomalyMap FrameScorer::score(const cv::Mat& frame, PixelFormat format, const TileLayout& layout) {
  if (frame.cols != layout.frame_width || frame.rows != layout.frame_height)
    throw InputError("frame is " + std::to_string(frame.cols) + "x" + std::to_string(frame.rows) +
                     " but the tile layout was made for " + std::to_string(layout.frame_width) + "x" +
                     std::to_string(layout.frame_height));
  std::vector<torch::Tensor> maps;
  std::vector<float> scores;
  if (path_ == FramePath::Tensor) {
    const torch::Tensor pixels = batcher_->upload(frame, format);
    run_model(batcher_->make_batch(pixels, format, layout, profile_->input), layout, &maps, &scores);
    return stitch_torch(maps, scores, layout);  // on the device; AnomalyMap::host_map() downloads on demand
  }
  const cv::Mat rgb = to_rgb(frame, format);
  run_model(make_batch(rgb, layout, profile_->input, model_->device()), layout, &maps, &scores);
  return stitch(maps, scores, layout);
}

void FrameScorer::run_model(const torch::Tensor& batch, const TileLayout& layout, std::vector<torch::Tensor>* maps_out,
                            std::vector<float>* scores_out) {
  std::vector<torch::Tensor>& maps = *maps_out;
  std::vector<float>& scores = *scores_out;
  const int64_t n = batch.size(0);
  const int64_t step = batch_size_ > 0 ? batch_size_ : n;
  for (int64_t start = 0; start < n; start += step) {
    const int64_t len = std::min(step, n - start);
    std::vector<cv::Size> sizes;
    for (int64_t i = start; i < start + len; ++i) sizes.push_back(layout.tiles[static_cast<size_t>(i)].rect.size());
    ScoredBatch out = model_->score(batch.narrow(0, start, len), sizes);
    if (out.maps.size() != static_cast<size_t>(len) || out.scores.size() != static_cast<size_t>(len))
      throw MapShapeError(model_->describe() + ": returned " + std::to_string(out.maps.size()) + " maps for " +
                          std::to_string(len) + " tiles");
    for (int64_t i = 0; i < len; ++i) {
      const torch::Tensor& m = out.maps[static_cast<size_t>(i)];
      const cv::Size want = sizes[static_cast<size_t>(i)];
      const bool fits = m.defined() && ((m.dim() == 2 && m.size(0) == want.height && m.size(1) == want.width) ||
                                        (m.dim() == 3 && m.size(0) == 1 && m.size(1) == want.height &&
                                         m.size(2) == want.width));
      if (!fits)
        throw MapShapeError(model_->describe() + ": map of tile " + std::to_string(start + i) + " has shape " +
                            (m.defined() ? std::string(c10::str(m.sizes())) : std::string("undefined")) +
                            ", expected [" + std::to_string(want.height) + ", " + std::to_string(want.width) + "]");
    }
    for (auto& m : out.maps) maps.push_back(std::move(m));
    scores.insert(scores.end(), out.scores.begin(), out.scores.end());
  }
}

double FrameScorer::warm_up() {
  const int w = profile_->input.width, h = profile_->input.height;
  const TileLayout layout = make_tile_layout(w, h, profile_->tiling);
  const cv::Mat black(h, w, CV_8UC3, cv::Scalar::all(0));
  const auto t0 = std::chrono::steady_clock::now();
  score(black, PixelFormat::RGB, layout);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace advad
