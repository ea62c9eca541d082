// Dense: torch::nn::Linear (same parameters, same key names weight/bias) that
// can switch to dynamic int8: weights quantised once per output channel
// (symmetric int8), activations quantised per call from their own range, the
// product accumulated in int32 and returned in float32 (LibTorch's
// quantized::linear_dynamic on oneDNN or FBGEMM). Every INP-Former linear layer
// is a Dense, so precision=int8 is one walk over the network.
#pragma once
#include <ATen/native/quantized/PackedParams.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace advad::inpformer {

class DenseImpl : public torch::nn::LinearImpl {
 public:
  DenseImpl(int64_t in, int64_t out) : torch::nn::LinearImpl(in, out) {}
  // Hides LinearImpl::forward: Dense(x) takes the int8 path once quantised.
  torch::Tensor forward(const torch::Tensor& x);
  // Packs the current float32 weights as int8; later changes to `weight` are not seen.
  void quantize_int8();
  bool is_int8() const { return static_cast<bool>(packed_); }

 private:
  c10::intrusive_ptr<LinearPackedParamsBase> packed_;
};
TORCH_MODULE(Dense);

// Quantises every Dense under `root` (float32 CPU weights); returns how many.
// Picks LibTorch's x86 int8 engine (FBGEMM, else oneDNN) and throws ModelError
// naming the engines this LibTorch has when neither is there.
int quantize_dense_layers_int8(torch::nn::Module& root);

// The quantised engine int8 runs on ("fbgemm" / "onednn"), or "" when none.
std::string int8_engine_name();

}  // namespace advad::inpformer
