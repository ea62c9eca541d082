// The CPR network: DenseNet201 truncated after denseblock2 (frozen, BN in eval
// mode) and the two Local Retrieval Branch heads. Module and parameter names
// follow torchvision / the official CPR repository, so checkpoints load by name:
//   backbone.features.*   <- torchvision densenet201 "features.*"
//   lrb.conv.{0,1}.*      <- official CPR "lrb.conv.{0,1}.*"
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

namespace advad::cpr {

constexpr int64_t kDefaultHeadDim = 384;

// The building blocks (DenseNet layer, dense block, transition, Inception) live in network.cpp.
class DenseBlockImpl;
class TransitionImpl;
class InceptionImpl;

// torchvision's `features` up to denseblock2 (pruned like the official model).
class DenseNetTrunkImpl : public torch::nn::Module {
 public:
  DenseNetTrunkImpl();
  // Returns {denseblock1 output [B,256,H/4,W/4], denseblock2 output [B,512,H/8,W/8]}.
  // x is cast to the stem's dtype and the stem's output to the dense blocks'
  // (no-ops when the whole trunk has one dtype).
  std::array<torch::Tensor, 2> forward(const torch::Tensor& x);
  // Moves the dense blocks to `device` in `dtype` and the stem (conv0 + norm0)
  // to `device` in float32, without rounding the stem's weights.
  void to_inference(const torch::Device& device, torch::ScalarType dtype);

 private:
  torch::nn::Conv2d conv0_{nullptr};
  torch::nn::BatchNorm2d norm0_{nullptr};
  std::shared_ptr<DenseBlockImpl> block1_, block2_;
  std::shared_ptr<TransitionImpl> transition1_;
  torch::Tensor block_weight_;  // a dense block parameter (same TensorImpl): the blocks' dtype
};
TORCH_MODULE(DenseNetTrunk);

// One LRB head: 1x1 conv (bias) -> BN(1e-5) -> ReLU -> Inception -> 1x1 conv (bias).
// Registered as "0", "1", "3", "4" like the official nn.Sequential (2 = ReLU).
class LrbHeadImpl : public torch::nn::Module {
 public:
  LrbHeadImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d in_conv_{nullptr}, out_conv_{nullptr};
  torch::nn::BatchNorm2d in_bn_{nullptr};
  std::shared_ptr<InceptionImpl> inception_;
};
TORCH_MODULE(LrbHead);

// The two heads under "conv.0" / "conv.1" (the official ModuleList).
class LrbImpl : public torch::nn::Module {
 public:
  explicit LrbImpl(int64_t out_channels);
  LrbHead head(int i) const { return heads_[static_cast<size_t>(i)]; }
  int64_t out_channels() const { return out_channels_; }

 private:
  int64_t out_channels_;
  std::array<LrbHead, 2> heads_{LrbHead{nullptr}, LrbHead{nullptr}};
};
TORCH_MODULE(Lrb);

// What one forward pass gives: raw backbone taps and raw (un-normalised) head outputs.
struct CprForward {
  std::array<torch::Tensor, 2> taps;   // [B,256,H/4,W/4], [B,512,H/8,W/8]
  std::array<torch::Tensor, 2> heads;  // [B,D,H/4,W/4], [B,D,H/8,W/8]
};

// Backbone + heads. The backbone always stays in eval mode (frozen BN), even
// when train() is called on the network (the trainer trains the heads only).
class CprNetworkImpl : public torch::nn::Module {
 public:
  explicit CprNetworkImpl(int64_t head_dim = kDefaultHeadDim);
  CprForward forward(const torch::Tensor& x);
  std::array<torch::Tensor, 2> backbone_forward(const torch::Tensor& x);
  DenseNetTrunk backbone() const { return backbone_; }
  Lrb lrb() const { return lrb_; }
  int64_t head_dim() const { return lrb_->out_channels(); }
  void train(bool on = true) override;
  // Inference precision: every weight on `device` in `dtype` (float32, bf16 or
  // fp16), except that a reduced dtype keeps the stem (conv0 + norm0, the 7x7
  // convolution of the raw image) in float32: on the CPR parity fixture that
  // halves bf16's map error (fused map max |diff| vs fp32 2.2e-2 -> 1.0e-2) for
  // no measurable time. BatchNorm runs in bf16 (LibTorch 1.13's CPU kernel
  // computes it in float32; float32 BN parameters gave the same outputs).
  // Outputs are in `dtype`: cast them to float32 before normalising. Weights
  // once rounded to bf16/fp16 stay rounded: load a fresh network for float32.
  void to_inference(const torch::Device& device, torch::ScalarType dtype);

 private:
  DenseNetTrunk backbone_{nullptr};
  Lrb lrb_{nullptr};
};
TORCH_MODULE(CprNetwork);

// L2-normalise over channels (dim 1) as the official scorer: f / (||f|| + 1e-8).
torch::Tensor l2_normalise(const torch::Tensor& f);

}  // namespace advad::cpr
