// Model: the scoring interface every backend implements (INP-Former, CPR,
// TorchScript), and the factory that builds one from a profile.
#pragma once
#include <opencv2/core.hpp>
#include <memory>
#include <string>
#include <vector>
#include <torch/types.h>

#include "core/profile.h"

namespace advad {

struct ModelOptions {
  std::string device = "auto";     // auto | cpu | cuda | cuda:N
  std::string precision = "fp32";  // fp32 | fp16 | bf16 (fp16/bf16 only where the device supports it)
  int threads = 0;                 // intra-op threads; 0 = all cores
};

struct ScoredBatch {
  std::vector<torch::Tensor> maps;  // one [h_i, w_i] float32 map per tile, on the model's device
  std::vector<float> scores;        // one image score per tile
};

class Model {
 public:
  virtual ~Model() = default;
  // batch: [B,3,H,W] float32 normalised input on device(). out_sizes: the size
  // (w,h) each tile's map must have (usually the tile's frame rect size); the
  // backend resizes its native map the way the method's reference code does.
  virtual ScoredBatch score(const torch::Tensor& batch, const std::vector<cv::Size>& out_sizes) = 0;
  virtual torch::Device device() const = 0;
  virtual std::string describe() const = 0;  // one line: method, size, device, precision
};

// Resolve "auto|cpu|cuda|cuda:N" to a device; throws ModelError when CUDA is
// asked for and unavailable (naming the value and what to do).
torch::Device resolve_device(const std::string& spec);

// "fp32 | fp16 | bf16" -> dtype the model runs in. ModelError naming the value
// when the device cannot run it (fp16 needs CUDA).
torch::ScalarType resolve_precision(const std::string& spec, const torch::Device& device);

// Path of the BLAS library LibTorch's sgemm_ comes from (symlinks resolved), "" if unknown.
std::string blas_library_path();

// Sets LibTorch intra-op threads (0 = hardware concurrency) and warns once on
// stderr when the BLAS behind LibTorch is the slow reference BLAS.
void configure_runtime(int threads);

// Build the profile's model. Throws ModelError / ProfileError with a message
// naming the file and what to do.
std::unique_ptr<Model> create_model(const Profile& profile, const ModelOptions& options);

// Backend constructors (one file each).
std::unique_ptr<Model> create_torchscript_model(const Profile& profile, const ModelOptions& options);
std::unique_ptr<Model> create_inpformer_model(const Profile& profile, const ModelOptions& options);
std::unique_ptr<Model> create_cpr_model(const Profile& profile, const ModelOptions& options);

}  // namespace advad
