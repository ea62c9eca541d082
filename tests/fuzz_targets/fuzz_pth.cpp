// libFuzzer target: torch.save state dicts (io/torch_archive.cpp, io/pickle.cpp,
// io/state_dict.cpp). An input starting with "PK" is a whole .pth file (zip
// container, records, pickle); any other input is taken as a data.pkl and
// wrapped in a valid archive with storages data/0..data/15 of 256 bytes each,
// so mutations reach the unpickler instead of breaking the zip. A rejection
// must be a ModelError; every tensor of a loaded dict must lie in its storage.
#include <caffe2/serialize/inline_container.h>

#include <cstdint>
#include <string>
#include <torch/types.h>

#include "core/error.h"
#include "fuzz_input.h"
#include "io/state_dict.h"

namespace {

// The archive torch.save would write around `pkl` (same record names).
std::string wrap_pickle(const uint8_t* data, size_t size) {
  const std::string path = advad::fuzz::scratch_path("wrapped.pth");
  caffe2::serialize::PyTorchStreamWriter w(path);
  w.writeRecord("data.pkl", data, size);
  static const std::string storage(256, '\x3f');
  for (int k = 0; k < 16; ++k) w.writeRecord("data/" + std::to_string(k), storage.data(), storage.size());
  w.writeEndOfFile();
  return path;
}

// Reads every byte a tensor view covers through its strides (instrumented
// reads: a view past its storage record is reported here). Big views: corners only.
unsigned touch(const torch::Tensor& t) {
  if (t.numel() == 0) return 0;
  const auto* base = static_cast<const unsigned char*>(t.data_ptr());
  const int64_t item = static_cast<int64_t>(t.element_size());
  if (t.numel() > 100000) {
    int64_t last = 0;
    for (int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
    return base[0] + base[last * item + item - 1];
  }
  unsigned sum = 0;
  std::vector<int64_t> idx(static_cast<size_t>(t.dim()), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t off = 0;
    for (int64_t d = 0; d < t.dim(); ++d) off += idx[static_cast<size_t>(d)] * t.stride(d);
    sum += base[off * item] + base[off * item + item - 1];
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < t.size(d)) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace advad;
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  const std::string path = zip ? fuzz::input_file(data, size, "fuzz.pth") : wrap_pickle(data, size);
  try {
    const StateDict sd = load_state_dict(path);
    if (sd.keys.size() != sd.tensors.size()) fuzz::fail("state dict keys and tensors differ in number");
    unsigned sum = 0;
    for (const auto& k : sd.keys) sum += touch(sd.at(k));
    (void)sum;
  } catch (const ModelError&) {
  }
  return 0;
}
