#include "inpformer/dense.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include "core/error.h"

namespace advad::inpformer {

namespace {

using Packed = c10::intrusive_ptr<LinearPackedParamsBase>;

// The registered quantized ops (there is no C++ API for them in LibTorch 1.13).
const auto& prepack_op() {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::linear_prepack", "")
                             .typed<Packed(at::Tensor, c10::optional<at::Tensor>)>();
  return op;
}

const auto& linear_dynamic_op() {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::linear_dynamic", "")
                             .typed<at::Tensor(at::Tensor, const Packed&, bool)>();
  return op;
}

bool has_engine(at::QEngine e) {
  for (auto s : at::globalContext().supportedQEngines())
    if (s == e) return true;
  return false;
}

// FBGEMM first (pytorch.org builds), then oneDNN (Debian's LibTorch 1.13 has
// no FBGEMM). QNNPACK is for ARM phones: slower than fp32 on x86, not used.
void select_engine() {
  if (has_engine(at::QEngine::FBGEMM)) {
    at::globalContext().setQEngine(at::QEngine::FBGEMM);
    return;
  }
  if (has_engine(at::QEngine::ONEDNN)) {
    at::globalContext().setQEngine(at::QEngine::ONEDNN);
    return;
  }
  std::string have;
  for (auto s : at::globalContext().supportedQEngines())
    if (s != at::QEngine::NoQEngine) have += (have.empty() ? "" : ", ") + c10::toString(s);
  throw ModelError("precision 'int8' needs LibTorch's FBGEMM or oneDNN quantized engine; this LibTorch has " +
                   (have.empty() ? std::string("none") : have) + ". Use precision=bf16, auto or fp32");
}

}  // namespace

std::string int8_engine_name() {
  if (has_engine(at::QEngine::FBGEMM)) return "fbgemm";
  if (has_engine(at::QEngine::ONEDNN)) return "onednn";
  return "";
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) {
  if (!packed_) return torch::nn::LinearImpl::forward(x);
  const auto in = x.scalar_type() == at::kFloat ? x : x.to(at::kFloat);
  auto shape = in.sizes().vec();
  auto y = linear_dynamic_op().call(in.reshape({-1, shape.back()}).contiguous(), packed_, /*reduce_range=*/false);
  shape.back() = y.size(1);
  return y.reshape(shape);
}

void DenseImpl::quantize_int8() {
  TORCH_CHECK(weight.is_cpu() && weight.scalar_type() == at::kFloat, "int8 needs float32 CPU weights");
  // Symmetric per-output-channel scales: max |w| of the row maps to 127.
  const auto w = weight.detach();
  const auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-12).to(at::kDouble);
  const auto zeros = at::zeros({w.size(0)}, at::kLong);
  const auto qw = at::quantize_per_channel(w, scales, zeros, 0, at::kQInt8);
  packed_ = prepack_op().call(qw, bias.defined() ? c10::optional<at::Tensor>(bias.detach()) : c10::nullopt);
}

int quantize_dense_layers_int8(torch::nn::Module& root) {
  select_engine();
  int n = 0;
  for (const auto& m : root.modules(/*include_self=*/true))
    if (auto* d = dynamic_cast<DenseImpl*>(m.get())) {
      d->quantize_int8();
      ++n;
    }
  return n;
}

}  // namespace advad::inpformer
