// .npy header parsing and size checks (format versions 1-3, as numpy.save writes them).
#include "io/npy_format.h"

#include <cstring>
#include <limits>
#include <regex>

#include "core/error.h"

namespace advad {

namespace {

struct TypeCode {
  const char* code;
  size_t size;
};
const TypeCode kCodes[] = {{"f4", 4}, {"f8", 8}, {"f2", 2}, {"i8", 8}, {"i4", 4},
                           {"i2", 2}, {"i1", 1}, {"u1", 1}, {"b1", 1}};

// "(2, 3)" / "(3,)" / "()" -> dims; InputError on anything but non-negative decimal integers.
std::vector<int64_t> parse_shape(const std::string& dims, const std::string& path) {
  std::vector<int64_t> shape;
  size_t i = 0;
  auto bad = [&]() {
    return InputError(path + ": .npy header has a bad shape (" + dims + "); expected a tuple of non-negative integers");
  };
  while (i < dims.size()) {
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == '\t')) ++i;
    if (i == dims.size()) break;
    int64_t d = 0;
    size_t digits = 0;
    for (; i < dims.size() && dims[i] >= '0' && dims[i] <= '9'; ++i, ++digits) {
      if (d > (std::numeric_limits<int64_t>::max() - 9) / 10) throw bad();
      d = d * 10 + (dims[i] - '0');
    }
    if (digits == 0) throw bad();
    if (i < dims.size() && dims[i] == 'L') ++i;  // Python 2's numpy wrote longs as "3L"
    shape.push_back(d);
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == '\t')) ++i;
    if (i < dims.size() && dims[i] != ',') throw bad();
    ++i;  // the comma
  }
  return shape;
}

}  // namespace

NpyHeader read_npy_header(std::istream& f, uint64_t file_size, const std::string& path) {
  char magic[8];
  f.read(magic, 8);
  if (f.gcount() != 8 || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw InputError(path + ": not a .npy file (bad magic)");
  const uint8_t major = static_cast<uint8_t>(magic[6]);
  uint32_t hlen = 0;
  uint64_t prefix = 0;
  if (major == 1) {
    unsigned char h[2] = {0, 0};
    f.read(reinterpret_cast<char*>(h), 2);
    hlen = static_cast<uint32_t>(h[0] | (h[1] << 8));
    prefix = 10;
  } else if (major == 2 || major == 3) {
    unsigned char h[4] = {0, 0, 0, 0};
    f.read(reinterpret_cast<char*>(h), 4);
    hlen = static_cast<uint32_t>(h[0]) | static_cast<uint32_t>(h[1]) << 8 | static_cast<uint32_t>(h[2]) << 16 |
           static_cast<uint32_t>(h[3]) << 24;
    prefix = 12;
  } else {
    throw InputError(path + ": unsupported .npy version " + std::to_string(major));
  }
  // The length comes from the file: check it before allocating the header.
  if (!f || prefix + hlen > file_size) throw InputError(path + ": truncated .npy header");
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  if (!f) throw InputError(path + ": truncated .npy header");

  // Compiled once (a .npy read per map file in evaluation).
  static const std::regex descr_re("'descr'\\s*:\\s*'([<>|=])([a-z]\\d+)'");
  static const std::regex fortran_re("'fortran_order'\\s*:\\s*True");
  static const std::regex shape_re("'shape'\\s*:\\s*\\(([^)]*)\\)");
  std::smatch m;
  if (!std::regex_search(header, m, descr_re))
    throw InputError(path + ": .npy header has no descr");
  const std::string order = m[1], code = m[2];
  if (order == ">") throw InputError(path + ": big-endian .npy data is not supported");
  if (std::regex_search(header, m, fortran_re))
    throw InputError(path + ": Fortran-order .npy data is not supported (save a C-contiguous array)");
  if (!std::regex_search(header, m, shape_re))
    throw InputError(path + ": .npy header has no shape");

  NpyHeader h;
  h.shape = parse_shape(m[1], path);
  for (const auto& t : kCodes)
    if (code == t.code) h.dtype = t.code, h.item_size = t.size;
  if (h.dtype.empty()) throw InputError(path + ": unsupported .npy dtype '" + code + "'");
  h.data_offset = prefix + hlen;
  // Bytes the shape needs, without overflow: more than the file holds is "truncated".
  bool empty = false;
  for (int64_t d : h.shape) empty = empty || d == 0;
  uint64_t bytes = empty ? 0 : h.item_size;
  bool over = false;
  for (int64_t d : h.shape) {
    if (empty) break;
    const auto ud = static_cast<uint64_t>(d);
    if (ud > std::numeric_limits<uint64_t>::max() / bytes) {
      over = true;
      break;
    }
    bytes *= ud;
  }
  if (over || bytes > file_size - h.data_offset)
    throw InputError(path + ": .npy data is truncated (expected " +
                     (over ? std::string("more than 2^64") : std::to_string(bytes)) + " bytes, the file holds " +
                     std::to_string(file_size - h.data_offset) + ")");
  h.data_bytes = bytes;
  return h;
}

}  // namespace advad
