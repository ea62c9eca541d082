// libFuzzer target: CPR bank files (cpr/bank/bank.cpp: magic, JSON header,
// tensor table, file length, checksums, shapes). A rejection must be a
// ModelError; a bank that loads must hold consistent tensors inside the file.
#include <cstdint>
#include <string>
#include <torch/types.h>

#include "core/error.h"
#include "cpr/bank/bank.h"
#include "fuzz_input.h"

namespace {

// Reads the first and last byte of a loaded tensor (instrumented reads: a
// view past the mapping or a freed copy is reported here).
unsigned touch(const torch::Tensor& t) {
  if (!t.defined() || t.nbytes() == 0) return 0;
  const auto* p = static_cast<const unsigned char*>(t.data_ptr());
  return p[0] + p[t.nbytes() - 1];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace advad;
  const std::string path = fuzz::input_file(data, size, "bank.bin");
  try {
    const cpr::CprBank b = cpr::CprBank::load(path);
    if (b.size() < 1) advad::fuzz::fail("a bank without training images loaded");
    if (b.bytes() < 0 || b.bytes_per_image() < 0) advad::fuzz::fail("negative byte count");
    unsigned sum = 0;
    for (const auto* t : {&b.features[0], &b.features[1], &b.codebook, &b.histograms, &b.feb_weight, &b.feb_bias,
                          &b.foreground})
      sum += touch(*t);
    b.validate("reloaded bank");
    (void)sum;
  } catch (const ModelError&) {
  }
  return 0;
}
