// Device / precision selection and process-wide LibTorch settings.
#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/error.h"
#include "core/model.h"

namespace advad {

torch::Device resolve_device(const std::string& spec) {
  const std::string hint = "accepted: auto | cpu | cuda | cuda:N";
  if (spec == "cpu") return torch::Device(torch::kCPU);
  const bool cuda_ok = torch::cuda::is_available();
  if (spec == "auto" || spec.empty()) return cuda_ok ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5) {
      char* end = nullptr;
      long v = std::strtol(spec.c_str() + 5, &end, 10);
      if (*end != '\0' || v < 0 || spec.size() == 5) throw ModelError("device '" + spec + "' is not valid; " + hint);
      index = static_cast<int>(v);
    }
    if (!cuda_ok)
      throw ModelError("device '" + spec + "' asked for, but this LibTorch build or machine has no usable CUDA GPU; "
                       "use device=cpu (or auto)");
    const int n = static_cast<int>(torch::cuda::device_count());
    if (index >= n)
      throw ModelError("device '" + spec + "' asked for, but only " + std::to_string(n) +
                       " CUDA device(s) exist (cuda:0.." + std::to_string(n - 1) + ")");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ModelError("device '" + spec + "' is not valid; " + hint);
}

torch::ScalarType resolve_precision(const std::string& spec, const torch::Device& device) {
  if (spec == "fp32" || spec.empty()) return torch::kFloat32;
  if (spec == "bf16") return torch::kBFloat16;  // runs on the CPU too (slowly); CUDA needs sm_80+ for speed
  if (spec == "fp16") {
    if (!device.is_cuda())
      throw ModelError("precision 'fp16' needs a CUDA device (got " + device.str() + "); use fp32 or bf16 on the CPU");
    return torch::kFloat16;
  }
  throw ModelError("precision '" + spec + "' is not valid; accepted: fp32 | fp16 | bf16");
}

std::string blas_library_path() {
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (sym && dladdr(sym, &info) && info.dli_fname) {
    std::error_code ec;
    auto p = std::filesystem::canonical(info.dli_fname, ec);
    return ec ? std::string(info.dli_fname) : p.string();
  }
  // Not loaded (yet): ask the Debian alternatives system what libblas.so.3 is.
  std::error_code ec;
  auto p = std::filesystem::canonical("/etc/alternatives/libblas.so.3-x86_64-linux-gnu", ec);
  return ec ? std::string() : p.string();
}

void configure_runtime(int threads) {
  const int n = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  if (at::get_num_threads() != n) at::set_num_threads(n);
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  const std::string blas = blas_library_path();
  // Debian's reference BLAS lives in .../blas/; OpenBLAS, BLIS, MKL elsewhere.
  if (blas.find("/blas/") != std::string::npos && blas.find("openblas") == std::string::npos)
    std::cerr << "advad: warning: LibTorch uses the slow reference BLAS (" << blas
              << "); install libopenblas0-pthread for ~25x faster CPU inference\n";
}

}  // namespace advad
