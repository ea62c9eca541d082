// Device / precision selection and process-wide LibTorch settings.
#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

// The caching allocator's API when this build sees its headers (a CUDA LibTorch
// plus the CUDA runtime headers, which c10/cuda includes); else runtime lookup.
#if defined(ADVAD_WITH_CUDA) && defined(__has_include)
#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define ADVAD_CUDA_ALLOCATOR_HEADER 1
#endif
#endif

#include "core/backend_registry.h"
#include "core/error.h"
#include "core/model.h"

namespace advad {

namespace {

// Why CUDA cannot be used (only called when torch::cuda::is_available() is false),
// naming both causes and what to do instead.
std::string cuda_unavailable_reason() {
  const std::string instead = "; use device=cpu, or device=auto (the first CUDA device when there is one, else the CPU)";
#ifdef ADVAD_WITH_CUDA
  return "no usable CUDA device: this advad build has CUDA (LibTorch with libtorch_cuda) but LibTorch sees no "
         "GPU (no NVIDIA GPU or driver, or CUDA_VISIBLE_DEVICES hides it; nvidia-smi tells which)" + instead;
#else
  return "no usable CUDA device: this advad build has no CUDA, its LibTorch is CPU-only (e.g. Debian's libtorch 1.13; a GPU in this "
         "machine would not be used either). Build against a CUDA LibTorch with meson -Dtorch_dir=... "
         "(docs/gpu.md)" + instead;
#endif
}

}  // namespace

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
    if (!cuda_ok) throw ModelError("device '" + spec + "' asked for, but " + cuda_unavailable_reason());
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

#ifdef ADVAD_WITH_CUDA
namespace {

void set_cuda_memory_fraction(double fraction, int index) {
#ifdef ADVAD_CUDA_ALLOCATOR_HEADER
  c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, index);
#else
  // LibTorch 1.x exports it as a function (2.x makes it inline: the headers are needed).
  using SetFraction = void (*)(double, int);
  auto fn = reinterpret_cast<SetFraction>(dlsym(RTLD_DEFAULT, "_ZN3c104cuda20CUDACachingAllocator17setMemoryFractionEdi"));
  if (!fn)
    throw ModelError("cuda-memory-limit: this build cannot reach LibTorch's CUDA caching allocator (it was compiled "
                     "without the CUDA runtime headers, cuda_runtime_api.h); rebuild with them on the include path "
                     "(CPATH=/usr/local/cuda/include, or a pip wheel's site-packages/nvidia/cuda_runtime/include), "
                     "or leave cuda-memory-limit unset");
  fn(fraction, index);
#endif
}

}  // namespace
#endif

std::string CudaMemoryLimit::str() const {
  if (none()) return "none";
  std::ostringstream o;
  if (fraction > 0) {
    o << fraction * 100 << "% of the device";
  } else {
    o << static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0) << " GiB (" << bytes << " bytes)";
  }
  return o.str();
}

CudaMemoryLimit parse_cuda_memory_limit(const std::string& text) {
  const std::string forms =
      "accepted: 0 or empty (no limit), a fraction of the device's memory in (0, 1] (e.g. 0.5), or bytes >= 1 MiB "
      "as an integer with an optional K, M, G or T suffix, powers of 1024 (e.g. 6G, 512M, 6442450944)";
  auto bad = [&](const std::string& why) {
    return ModelError("cuda-memory-limit '" + text + "' " + why + "; " + forms);
  };
  CudaMemoryLimit l;
  std::string t;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) t += c;
  if (t.empty() || t == "0") return l;
  // Number part.
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  const std::string num = t.substr(0, i), unit = t.substr(i);
  if (num.empty() || std::count(num.begin(), num.end(), '.') > 1) throw bad("is not a number");
  if (num.find('.') != std::string::npos || (unit.empty() && num == "1")) {
    if (!unit.empty()) throw bad("mixes a fraction with a unit");
    const double f = std::strtod(num.c_str(), nullptr);
    if (!(f > 0.0 && f <= 1.0)) throw bad("is outside the fraction range (0, 1]");
    l.fraction = f;
    return l;
  }
  std::string u;
  for (char c : unit) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (u.empty() || u == "B") shift = 0;
  else if (u == "K" || u == "KB" || u == "KIB") shift = 10;
  else if (u == "M" || u == "MB" || u == "MIB") shift = 20;
  else if (u == "G" || u == "GB" || u == "GIB") shift = 30;
  else if (u == "T" || u == "TB" || u == "TIB") shift = 40;
  else throw bad("has an unknown unit '" + unit + "'");
  if (num.size() > 15) throw bad("is too large");
  const uint64_t n = std::stoull(num);
  if (shift > 0 && n > (UINT64_MAX >> shift)) throw bad("is too large");
  l.bytes = n << shift;
  if (l.bytes < (1ull << 20)) throw bad("is below 1 MiB");
  return l;
}

std::string apply_cuda_memory_limit(const CudaMemoryLimit& limit, const torch::Device& device) {
  if (limit.none()) return "";
  if (!device.is_cuda())
    return "cuda-memory-limit " + limit.str() + " ignored: the model runs on " + device.str() +
           " (the limit applies to CUDA devices only)";
#ifdef ADVAD_WITH_CUDA
  const int index = device.has_index() ? device.index() : 0;
  // The allocator is set up on first use: make sure it is before changing it.
  (void)torch::empty({1}, torch::TensorOptions().device(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index))));
  double fraction = limit.fraction;
  if (limit.bytes > 0) {
    // The device's total memory through the CUDA runtime LibTorch loaded (no CUDA headers needed).
    using GetDevice = int (*)(int*);
    using SetDevice = int (*)(int);
    using MemGetInfo = int (*)(size_t*, size_t*);
    auto get_dev = reinterpret_cast<GetDevice>(dlsym(RTLD_DEFAULT, "cudaGetDevice"));
    auto set_dev = reinterpret_cast<SetDevice>(dlsym(RTLD_DEFAULT, "cudaSetDevice"));
    auto mem_info = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
    size_t free_b = 0, total_b = 0;
    int previous = 0;
    const bool ok = get_dev && set_dev && mem_info && get_dev(&previous) == 0 && set_dev(index) == 0 &&
                    mem_info(&free_b, &total_b) == 0;
    if (get_dev && set_dev) set_dev(previous);
    if (!ok || total_b == 0)
      throw ModelError("cuda-memory-limit " + limit.str() + ": cannot read the total memory of " + device.str() +
                       " (cudaMemGetInfo); give the limit as a fraction in (0, 1] instead");
    if (limit.bytes > total_b)
      throw ModelError("cuda-memory-limit " + limit.str() + " is more than " + device.str() + " has (" +
                       std::to_string(total_b) + " bytes); accepted: 1 MiB to " + std::to_string(total_b) +
                       " bytes, or a fraction in (0, 1]");
    fraction = static_cast<double>(limit.bytes) / static_cast<double>(total_b);
  }
  set_cuda_memory_fraction(fraction, index);
  return "";
#else
  throw ModelError("cuda-memory-limit: " + device.str() + " is not usable in this build (no CUDA)");
#endif
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
