// NumPy .npy files (format versions 1-3), as written by numpy.save.
#include "io/npy.h"

#include <filesystem>
#include <fstream>
#include <torch/types.h>

#include "core/error.h"
#include "io/npy_format.h"

namespace advad {

namespace {

struct DType {
  const char* code;
  torch::ScalarType type;
};
const DType kTypes[] = {{"f4", torch::kFloat32}, {"f8", torch::kFloat64}, {"f2", torch::kFloat16},
                        {"i8", torch::kInt64},   {"i4", torch::kInt32},   {"i2", torch::kInt16},
                        {"i1", torch::kInt8},    {"u1", torch::kUInt8},   {"b1", torch::kBool}};

}  // namespace

torch::Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot open .npy file");
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot read .npy file (" + ec.message() + ")");
  // Header and sizes are checked against the file's length before allocating.
  const NpyHeader h = read_npy_header(f, size, path);
  const DType* dt = nullptr;
  for (const auto& t : kTypes)
    if (h.dtype == t.code) dt = &t;
  if (!dt) throw InputError(path + ": unsupported .npy dtype '" + h.dtype + "'");
  torch::Tensor t;
  try {
    t = torch::empty(h.shape, torch::TensorOptions().dtype(dt->type));
  } catch (const c10::Error& e) {
    const std::string m = e.what_without_backtrace();
    throw InputError(path + ": .npy shape cannot be allocated: " + m.substr(0, m.find('\n')));
  }
  f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  if (static_cast<size_t>(f.gcount()) != t.nbytes())
    throw InputError(path + ": .npy data is truncated (expected " + std::to_string(t.nbytes()) + " bytes)");
  return t;
}

void save_npy(const torch::Tensor& tensor, const std::string& path) {
  torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  const DType* dt = nullptr;
  for (const auto& d : kTypes)
    if (d.type == t.scalar_type()) dt = &d;
  if (!dt) throw InputError(path + ": cannot save dtype " + std::string(c10::toString(t.scalar_type())) + " as .npy");
  std::string shape;  // "(2, 3)", "(3,)" or "()" as numpy writes it
  for (int64_t d = 0; d < t.dim(); ++d) shape += (d ? ", " : "") + std::to_string(t.size(d));
  if (t.dim() == 1) shape += ",";
  std::string order = (std::string(dt->code) == "u1" || std::string(dt->code) == "i1" ||
                       std::string(dt->code) == "b1") ? "|" : "<";
  std::string header = "{'descr': '" + order + dt->code + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot write .npy file");
  f.write("\x93NUMPY\x01\x00", 8);
  uint16_t hl = static_cast<uint16_t>(header.size());
  f.write(reinterpret_cast<const char*>(&hl), 2);
  f.write(header.data(), header.size());
  f.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  if (!f) throw InputError(path + ": write failed");
}

}  // namespace advad
