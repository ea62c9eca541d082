// Device / precision selection and process-wide LibTorch settings.
#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/backend_registry.h"
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

std::string PrecisionChoice::str() const { return reason.empty() ? name : name + " (" + reason + ")"; }

void check_precision_name(const std::string& spec, const std::string& where) {
  if (spec.empty() || spec == "auto" || spec == "fp32" || spec == "fp16" || spec == "bf16" || spec == "int8") return;
  throw ModelError(where + "precision '" + spec + "' is not valid; accepted: auto | fp32 | fp16 | bf16 | int8");
}

bool cpu_has_native_bf16(std::string* flag) {
  // The kernel's flag names; read once (the CPU does not change under us).
  static const std::string found = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line.substr(line.find(':') == std::string::npos ? 0 : line.find(':') + 1));
      std::string w;
      bool avx = false, amx = false;
      while (words >> w) {
        avx = avx || w == "avx512_bf16";
        amx = amx || w == "amx_bf16";
      }
      return amx ? std::string("amx_bf16") : avx ? std::string("avx512_bf16") : std::string();
    }
    return std::string();
  }();
  if (flag) *flag = found;
  return !found.empty();
}

namespace {

// Compute capability major of a CUDA device, -1 if it cannot be read. Asks the
// CUDA runtime LibTorch loaded (no CUDA headers in a CPU build).
int cuda_capability_major(const torch::Device& device) {
  using GetAttr = int (*)(int*, int, int);
  auto fn = reinterpret_cast<GetAttr>(dlsym(RTLD_DEFAULT, "cudaDeviceGetAttribute"));
  if (!fn) return -1;
  int major = -1;
  constexpr int kComputeCapabilityMajor = 75;  // cudaDevAttrComputeCapabilityMajor
  return fn(&major, kComputeCapabilityMajor, device.has_index() ? device.index() : 0) == 0 ? major : -1;
}

PrecisionChoice choose(const std::string& name, const std::string& reason) {
  PrecisionChoice c;
  c.name = name;
  c.reason = reason;
  c.dtype = name == "bf16" ? torch::kBFloat16 : name == "fp16" ? torch::kFloat16 : torch::kFloat;
  return c;
}

}  // namespace

PrecisionChoice resolve_precision(const std::string& spec, const torch::Device& device, const std::string& profile_pin,
                                  bool auto_bf16) {
  check_precision_name(spec, "");
  check_precision_name(profile_pin, "profile ");
  const bool automatic = spec.empty() || spec == "auto";
  std::string name = spec, reason;
  if (automatic && !profile_pin.empty() && profile_pin != "auto") {
    name = profile_pin;
    reason = "pinned by the profile";
  } else if (automatic && !auto_bf16) {
    name = "fp32";
    reason = "auto: this model has no bf16 path auto may pick";
  } else if (automatic) {
    if (device.is_cuda()) {
      const int major = cuda_capability_major(device);
      name = major >= 8 ? "bf16" : "fp32";
      reason = major < 0 ? "auto: CUDA compute capability unknown"
                         : "auto: CUDA compute capability " + std::to_string(major) + (major >= 8 ? " >= 8" : " < 8");
    } else {
      std::string flag;
      name = cpu_has_native_bf16(&flag) ? "bf16" : "fp32";
      reason = flag.empty() ? "auto: CPU has no avx512_bf16/amx_bf16" : "auto: CPU has " + flag;
    }
  }
  if (name == "fp16" && !device.is_cuda())
    throw ModelError("precision 'fp16' needs a CUDA device (got " + device.str() +
                     "); use bf16 (native on CPUs with avx512_bf16/amx_bf16), fp32 or auto on the CPU" +
                     (reason.empty() ? std::string() : " [" + reason + "]"));
  if (name == "int8" && !device.is_cpu())
    throw ModelError("precision 'int8' runs on the CPU only (got " + device.str() + "); use auto, bf16, fp16 or fp32" +
                     (reason.empty() ? std::string() : " [" + reason + "]"));
  return choose(name, reason);
}

PrecisionChoice resolve_model_precision(const Profile& profile, const ModelOptions& options) {
  // Backends with a measured bf16 path say so when they register (INP-Former,
  // CPR); TorchScript modules keep fp32 under auto (a module would run its map
  // in bf16 too).
  const Backend* backend = find_backend(profile.method);
  const bool auto_bf16 = backend && backend->auto_bf16;
  return resolve_precision(options.precision, resolve_device(options.device), profile.precision, auto_bf16);
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
  if (threads < 0)
    throw InputError("threads must be >= 0 (0 = all cores), got " + std::to_string(threads) + " (--threads / threads)");
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
