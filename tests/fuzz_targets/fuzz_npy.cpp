// libFuzzer target: .npy files (io/npy_format.cpp, io/npy.cpp). A rejection
// must be an InputError; an accepted array must fit the file it came from.
#include <cstdint>
#include <sstream>
#include <string>
#include <torch/types.h>

#include "core/error.h"
#include "fuzz_input.h"
#include "io/npy.h"
#include "io/npy_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace advad;
  // The header layer alone, from memory.
  try {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    const NpyHeader h = read_npy_header(in, size, "fuzz.npy");
    if (h.data_offset > size || h.data_bytes > size - h.data_offset) fuzz::fail("header accepted past the file's end");
  } catch (const InputError&) {
  }
  // The whole reader, from a file.
  const std::string path = fuzz::input_file(data, size, "fuzz.npy");
  try {
    const torch::Tensor t = load_npy(path);
    if (t.nbytes() > size) fuzz::fail("array of " + std::to_string(t.nbytes()) + " bytes from a smaller file");
  } catch (const InputError&) {
  }
  return 0;
}
