// The .npy container without LibTorch: the header (magic, version, descr,
// fortran_order, shape) parsed and every size checked against the file's
// length before anything is allocated. io/npy.h turns it into a tensor.
#pragma once
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace advad {

struct NpyHeader {
  std::string dtype;            // numpy type code without byte order: f4, f8, f2, i8, i4, i2, i1, u1, b1
  size_t item_size = 0;         // bytes per element of dtype
  std::vector<int64_t> shape;   // () = a scalar
  uint64_t data_offset = 0;     // where the array data starts
  uint64_t data_bytes = 0;      // item_size * number of elements
};

// Reads the header from `in` (positioned at the file's start), a file of
// `file_size` bytes named `path` in messages. InputError naming the file on a
// bad magic, version, header, dtype, big-endian or Fortran-order data, a shape
// that is not a tuple of non-negative integers or whose bytes overflow, and on
// data shorter than the shape needs ("truncated"). Bytes after the data are allowed.
NpyHeader read_npy_header(std::istream& in, uint64_t file_size, const std::string& path);

}  // namespace advad
