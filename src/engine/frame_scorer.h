// FrameScorer: one frame in, one stitched anomaly map out — the core calls
// advadinfer makes for a frame (to_rgb -> make_batch -> Model::score in
// chunks of batch_size tiles -> stitch), usable without GStreamer.
#pragma once
#include <memory>
#include <opencv2/core.hpp>

#include "core/model.h"
#include "core/profile.h"
#include "core/tile_layout.h"

namespace advad {

class FrameScorer {
 public:
  // batch_size: tiles per model call; 0 = all tiles of a frame in one call.
  // The model may be shared with other scorers (see engine/model_cache.h).
  FrameScorer(std::shared_ptr<const Profile> profile, std::shared_ptr<Model> model, int batch_size);

  // frame: 8-bit pixels in `format`, any size the layout was made for.
  AnomalyMap score(const cv::Mat& frame, PixelFormat format, const TileLayout& layout);

  // Scores a black frame of the model's input size once: loads lazy kernels
  // and checks the model's output; returns the wall time it took in seconds.
  // Throws what score() throws (MapShapeError for maps of the wrong number or
  // shape, ModelError for other model failures).
  double warm_up();

  const Profile& profile() const { return *profile_; }
  const Model& model() const { return *model_; }

 private:
  std::shared_ptr<const Profile> profile_;
  std::shared_ptr<Model> model_;
  int batch_size_;
};

}  // namespace advad
