// NumPy .npy files (format versions 1-3), as written by numpy.save.
#include "io/npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <torch/types.h>

#include "core/error.h"

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
  char magic[8];
  f.read(magic, 8);
  if (f.gcount() != 8 || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw InputError(path + ": not a .npy file (bad magic)");
  uint8_t major = static_cast<uint8_t>(magic[6]);
  uint32_t hlen = 0;
  if (major == 1) {
    uint16_t h;
    f.read(reinterpret_cast<char*>(&h), 2);
    hlen = h;
  } else if (major == 2 || major == 3) {
    f.read(reinterpret_cast<char*>(&hlen), 4);
  } else {
    throw InputError(path + ": unsupported .npy version " + std::to_string(major));
  }
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  if (!f) throw InputError(path + ": truncated .npy header");

  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([<>|=])([a-z]\\d+)'")))
    throw InputError(path + ": .npy header has no descr");
  std::string order = m[1], code = m[2];
  if (order == ">") throw InputError(path + ": big-endian .npy data is not supported");
  if (std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*True")))
    throw InputError(path + ": Fortran-order .npy data is not supported (save a C-contiguous array)");
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    throw InputError(path + ": .npy header has no shape");
  std::vector<int64_t> shape;
  std::string dims = m[1];
  std::stringstream ss(dims);
  for (std::string tok; std::getline(ss, tok, ',');) {
    tok.erase(0, tok.find_first_not_of(" \t"));
    if (tok.empty()) continue;
    shape.push_back(std::stoll(tok));
  }
  const DType* dt = nullptr;
  for (const auto& t : kTypes)
    if (code == t.code) dt = &t;
  if (!dt) throw InputError(path + ": unsupported .npy dtype '" + code + "'");

  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dt->type));
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
