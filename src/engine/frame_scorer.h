// FrameScorer: one frame in, one stitched anomaly map out — the core calls
// advadinfer makes for a frame (to_rgb -> make_batch -> Model::score in
// chunks of batch_size tiles -> stitch), usable without GStreamer.
#pragma once
#include <memory>
#include <string>
#include <vector>
#include <opencv2/core.hpp>

#include "core/model.h"
#include "core/profile.h"
#include "core/tensor_frame.h"
#include "core/tile_layout.h"

namespace advad {

// How a frame becomes a batch and the tile maps a frame map:
//   OpenCV: to_rgb + make_batch on the CPU (uint8 resize), the batch copied to the
//           model's device, stitch() (OpenCV for CPU maps, torch ops for device maps);
//   Tensor: the frame uploaded once (core/tensor_frame.h), crop/resize/normalise and
//           stitch_torch() as tensor ops on the model's device, the frame map left there
//           (AnomalyMap::host_map() downloads it for whoever reads its pixels);
//   Auto:   Tensor when the model is not on the CPU, else OpenCV (the CPU default, unchanged).
enum class FramePath { Auto, OpenCV, Tensor };
// "auto" | "opencv" | "tensor"; InputError naming the accepted values otherwise.
FramePath parse_frame_path(const std::string& name);
std::string to_string(FramePath path);

struct FrameScorerOptions {
  FramePath path = FramePath::Auto;
};

class FrameScorer {
 public:
  // batch_size: tiles per model call; 0 = all tiles of a frame in one call.
  // The model may be shared with other scorers (see engine/model_cache.h).
  FrameScorer(std::shared_ptr<const Profile> profile, std::shared_ptr<Model> model, int batch_size,
              FrameScorerOptions options = {});

  // frame: 8-bit pixels in `format`, any size the layout was made for.
  AnomalyMap score(const cv::Mat& frame, PixelFormat format, const TileLayout& layout);

  // Scores a black frame of the model's input size once: loads lazy kernels
  // and checks the model's output; returns the wall time it took in seconds.
  // Throws what score() throws (MapShapeError for maps of the wrong number or
  // shape, ModelError for other model failures).
  double warm_up();

  const Profile& profile() const { return *profile_; }
  const Model& model() const { return *model_; }
  // The path score() takes (Auto resolved against the model's device).
  FramePath path() const { return path_; }

 private:
  // Runs the model over the batch in chunks of batch_size_, checking each map's shape.
  void run_model(const torch::Tensor& batch, const TileLayout& layout, std::vector<torch::Tensor>* maps,
                 std::vector<float>* scores);
  std::shared_ptr<const Profile> profile_;
  std::shared_ptr<Model> model_;
  int batch_size_;
  FramePath path_;
  std::unique_ptr<TensorFrameBatcher> batcher_;  // the Tensor path's upload and tap tables
};

}  // namespace advad
