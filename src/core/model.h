// Model: the scoring interface every backend implements (INP-Former, CPR,
// TorchScript), its options and precision/device resolution.
#pragma once
#include <opencv2/core.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <torch/types.h>

#include "core/profile.h"

namespace advad {

struct ModelOptions {
  std::string device = "auto";     // auto | cpu | cuda | cuda:N
  // auto | fp32 | fp16 | bf16 | int8; auto = the profile's [profile] precision if set, else bf16 where
  // the device has native bf16 arithmetic and the backend a bf16 path, else fp32 (resolve_precision).
  // The element property and every CLI --precision default to auto; code that builds a model
  // without saying gets fp32 (exact, as the parity fixtures).
  std::string precision = "fp32";
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

// A per-process cap on the memory LibTorch's CUDA caching allocator may hold on
// a device (advadinfer's `cuda-memory-limit`). Text: "" or "0" = no limit; a
// fraction 0 < f <= 1 of the device's memory ("0.5", "1"); or bytes, an integer
// >= 1 MiB with an optional K, M, G or T suffix (powers of 1024, "KiB".."TiB"
// and "KB".."TB" too): "6G", "6442450944". ModelError naming the value and the
// accepted forms and ranges otherwise.
struct CudaMemoryLimit {
  double fraction = 0;  // > 0: a fraction of the device's memory
  uint64_t bytes = 0;   // > 0: bytes
  bool none() const { return fraction <= 0 && bytes == 0; }
  std::string str() const;  // "none", "50% of the device", "6 GiB (6442450944 bytes)"
};
CudaMemoryLimit parse_cuda_memory_limit(const std::string& text);

// Applies the limit to `device` (c10::cuda::CUDACachingAllocator::setMemoryFraction;
// bytes become a fraction of the device's total memory, ModelError when they exceed it).
// On a CPU device nothing is changed and the return value is the line to log at INFO
// level ("cuda-memory-limit ... ignored: ... runs on the CPU"); "" otherwise. A build
// without CUDA never has a CUDA device (resolve_device refuses it first).
std::string apply_cuda_memory_limit(const CudaMemoryLimit& limit, const torch::Device& device);

// The precision a model runs in, as resolved by resolve_precision (the one
// resolver every backend uses).
struct PrecisionChoice {
  std::string name;                          // fp32 | fp16 | bf16 | int8
  torch::ScalarType dtype = torch::kFloat;   // weights / matmuls (int8: float32 around int8 linears)
  std::string reason;                        // how it was chosen, e.g. "auto: CPU has avx512_bf16"
  std::string str() const;                   // "bf16 (auto: CPU has avx512_bf16)" or just "fp32"
};

// spec: auto | fp32 | fp16 | bf16 | int8 ("" = auto). auto takes profile_pin
// (a profile's [profile] precision) when set and not auto, else bf16 where the
// device has native bf16 (CPU: avx512_bf16 or amx_bf16 in /proc/cpuinfo; CUDA:
// compute capability >= 8), else fp32. ModelError naming the value when it is
// unknown or the device cannot run it (fp16 needs CUDA, int8 the CPU).
// auto_bf16: whether the backend has a bf16 path auto may pick (false: auto
// gives fp32 and says why).
PrecisionChoice resolve_precision(const std::string& spec, const torch::Device& device,
                                  const std::string& profile_pin = "", bool auto_bf16 = true);

// The precision the profile's model runs in under these options: resolve_precision
// with the device of options.device, the profile's pin, and auto_bf16 true for the
// methods with a bf16 path (INP-Former). Every backend calls this; so does
// `advad run` for its summary.
PrecisionChoice resolve_model_precision(const Profile& profile, const ModelOptions& options);

// Whether this CPU has native bf16 arithmetic (avx512_bf16 or amx_bf16), and
// which flag says so ("" when none). Read once from /proc/cpuinfo.
bool cpu_has_native_bf16(std::string* flag = nullptr);

// Throws ModelError unless spec is "" or one of auto | fp32 | fp16 | bf16 | int8.
void check_precision_name(const std::string& spec, const std::string& where);

// Path of the BLAS library LibTorch's sgemm_ comes from (symlinks resolved), "" if unknown.
std::string blas_library_path();

// Sets LibTorch intra-op threads (0 = hardware concurrency) and warns once on
// stderr when the BLAS behind LibTorch is the slow reference BLAS.
void configure_runtime(int threads);

// Backend constructors (one file each; each also registers itself in
// core/backend_registry.h, and create_model in engine/model_factory.h picks by
// the profile's method).
std::unique_ptr<Model> create_torchscript_model(const Profile& profile, const ModelOptions& options);
std::unique_ptr<Model> create_inpformer_model(const Profile& profile, const ModelOptions& options);
std::unique_ptr<Model> create_cpr_model(const Profile& profile, const ModelOptions& options);

}  // namespace advad
