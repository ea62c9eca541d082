#include "cpr/model/network.h"

#include <memory>
#include <vector>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>

namespace advad::cpr {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {
nn::BatchNorm2d make_bn(int64_t c, double eps) { return nn::BatchNorm2d(nn::BatchNorm2dOptions(c).eps(eps)); }
nn::Conv2d make_conv(int64_t in, int64_t out, int64_t k, int64_t pad, bool bias, int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias));
}
// A parameter-free container so that names nest like the Python modules.
std::shared_ptr<nn::Module> holder(nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<nn::Module>());
}

// Channel counts of the two backbone taps (denseblock1, denseblock2): the heads' inputs.
constexpr std::array<int64_t, 2> kTapChannels{256, 512};

}  // namespace

// The two building blocks have external linkage: the members of the classes below
// use them, which a unity build (one TU of several files) would flag as types from
// an anonymous namespace (-Wsubobject-linkage).
namespace blocks {

// One DenseNet bottleneck layer: BN-ReLU-1x1 conv (->128) BN-ReLU-3x3 conv (->32).
class DenseLayerImpl : public torch::nn::Module {
 public:
  explicit DenseLayerImpl(int64_t in_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(DenseLayer);

// torchvision Inception "BasicConv2d": bias-free conv, BN (eps 1e-3), ReLU.
class BasicConvImpl : public torch::nn::Module {
 public:
  BasicConvImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t padding);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(BasicConv);

}  // namespace blocks
using blocks::BasicConv;
using blocks::DenseLayer;

// A dense block: each layer's 32 new channels are appended to the running concat.
class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t in_channels, int layers);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t out_channels() const { return in_channels_ + 32 * static_cast<int64_t>(layers_.size()); }

 private:
  int64_t in_channels_;
  std::vector<DenseLayer> layers_;
};

// Transition: BN-ReLU-1x1 conv, 2x2 average pool.
class TransitionImpl : public torch::nn::Module {
 public:
  TransitionImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm2d norm_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};

// CPR's Inception block 192 -> 256 (four 64-channel branches, concatenated in order).
class InceptionImpl : public torch::nn::Module {
 public:
  InceptionImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  BasicConv b0_{nullptr}, b1a_{nullptr}, b1b_{nullptr}, b2_{nullptr}, b3_{nullptr};
};

blocks::DenseLayerImpl::DenseLayerImpl(int64_t in_channels) {
  norm1_ = register_module("norm1", make_bn(in_channels, 1e-5));
  conv1_ = register_module("conv1", make_conv(in_channels, 128, 1, 0, false));
  norm2_ = register_module("norm2", make_bn(128, 1e-5));
  conv2_ = register_module("conv2", make_conv(128, 32, 3, 1, false));
}

torch::Tensor blocks::DenseLayerImpl::forward(const torch::Tensor& x) {
  auto y = conv1_->forward(torch::relu(norm1_->forward(x)));
  return conv2_->forward(torch::relu(norm2_->forward(y)));
}

DenseBlockImpl::DenseBlockImpl(int64_t in_channels, int layers) : in_channels_(in_channels) {
  for (int i = 0; i < layers; ++i)
    layers_.push_back(register_module("denselayer" + std::to_string(i + 1), DenseLayer(in_channels + 32 * i)));
}

torch::Tensor DenseBlockImpl::forward(const torch::Tensor& x) {
  // One preallocated concat buffer: layer i reads the first c_i channels and
  // appends its 32 (same order as torch.cat of the running list).
  auto sizes = x.sizes().vec();
  sizes[1] = out_channels();
  auto out = torch::empty(sizes, x.options());
  out.narrow(1, 0, in_channels_).copy_(x);
  int64_t c = in_channels_;
  for (auto& layer : layers_) {
    out.narrow(1, c, 32).copy_(layer->forward(out.narrow(1, 0, c)));
    c += 32;
  }
  return out;
}

TransitionImpl::TransitionImpl(int64_t in_channels, int64_t out_channels) {
  norm_ = register_module("norm", make_bn(in_channels, 1e-5));
  conv_ = register_module("conv", make_conv(in_channels, out_channels, 1, 0, false));
}

torch::Tensor TransitionImpl::forward(const torch::Tensor& x) {
  return F::avg_pool2d(conv_->forward(torch::relu(norm_->forward(x))), F::AvgPool2dFuncOptions(2).stride(2));
}

DenseNetTrunkImpl::DenseNetTrunkImpl() {
  auto features = holder(*this, "features");
  conv0_ = features->register_module("conv0", make_conv(3, 64, 7, 3, false, 2));
  norm0_ = features->register_module("norm0", make_bn(64, 1e-5));
  block1_ = features->register_module("denseblock1", std::make_shared<DenseBlockImpl>(64, 6));
  transition1_ = features->register_module("transition1", std::make_shared<TransitionImpl>(256, 128));
  block2_ = features->register_module("denseblock2", std::make_shared<DenseBlockImpl>(128, 12));
  block_weight_ = block1_->parameters().front();  // Module::to() changes it in place
}

void DenseNetTrunkImpl::to_inference(const torch::Device& device, torch::ScalarType dtype) {
  // The trunk's parameters all live in these five modules.
  conv0_->to(device, torch::kFloat);
  norm0_->to(device, torch::kFloat);
  block1_->to(device, dtype);
  transition1_->to(device, dtype);
  block2_->to(device, dtype);
}

std::array<torch::Tensor, 2> DenseNetTrunkImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(norm0_->forward(conv0_->forward(x.to(conv0_->weight.scalar_type()))));
  y = F::max_pool2d(y, F::MaxPool2dFuncOptions(3).stride(2).padding(1)).to(block_weight_.scalar_type());
  auto tap0 = block1_->forward(y);
  auto tap1 = block2_->forward(transition1_->forward(tap0));
  return {tap0, tap1};
}

blocks::BasicConvImpl::BasicConvImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t padding) {
  conv_ = register_module("conv", make_conv(in_channels, out_channels, kernel, padding, false));
  bn_ = register_module("bn", make_bn(out_channels, 1e-3));
}

torch::Tensor blocks::BasicConvImpl::forward(const torch::Tensor& x) { return torch::relu(bn_->forward(conv_->forward(x))); }

InceptionImpl::InceptionImpl(int64_t in_channels, int64_t out_channels) {
  const int64_t q = out_channels / 4;
  b0_ = register_module("branch0", BasicConv(in_channels, q, 1, 0));
  auto branch1 = holder(*this, "branch1");
  b1a_ = branch1->register_module("0", BasicConv(in_channels, in_channels / 4, 1, 0));
  b1b_ = branch1->register_module("1", BasicConv(in_channels / 4, q, 3, 1));
  b2_ = holder(*this, "branch2")->register_module("0", BasicConv(in_channels, q, 1, 0));
  // branch3 index 0 is the parameter-free average pool.
  b3_ = holder(*this, "branch3")->register_module("1", BasicConv(in_channels, q, 1, 0));
}

torch::Tensor InceptionImpl::forward(const torch::Tensor& x) {
  auto pooled = F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false));
  return torch::cat({b0_->forward(x), b1b_->forward(b1a_->forward(x)), b2_->forward(x), b3_->forward(pooled)}, 1);
}

LrbHeadImpl::LrbHeadImpl(int64_t in_channels, int64_t out_channels) {
  in_conv_ = register_module("0", make_conv(in_channels, 192, 1, 0, true));
  in_bn_ = register_module("1", make_bn(192, 1e-5));
  inception_ = register_module("3", std::make_shared<InceptionImpl>(192, 256));
  out_conv_ = register_module("4", make_conv(256, out_channels, 1, 0, true));
}

torch::Tensor LrbHeadImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(in_bn_->forward(in_conv_->forward(x)));
  return out_conv_->forward(inception_->forward(y));
}

LrbImpl::LrbImpl(int64_t out_channels) : out_channels_(out_channels) {
  auto conv = holder(*this, "conv");
  for (int i = 0; i < 2; ++i)
    heads_[static_cast<size_t>(i)] = conv->register_module(std::to_string(i), LrbHead(kTapChannels[static_cast<size_t>(i)], out_channels));
}

CprNetworkImpl::CprNetworkImpl(int64_t head_dim) {
  backbone_ = register_module("backbone", DenseNetTrunk());
  lrb_ = register_module("lrb", Lrb(head_dim));
  backbone_->eval();
  for (auto& p : backbone_->parameters()) p.set_requires_grad(false);
}

void CprNetworkImpl::to_inference(const torch::Device& device, torch::ScalarType dtype) {
  backbone_->to_inference(device, dtype);
  lrb_->to(device, dtype);
}

void CprNetworkImpl::train(bool on) {
  torch::nn::Module::train(on);
  backbone_->eval();  // frozen BN, as the official BaseModel.train override
}

std::array<torch::Tensor, 2> CprNetworkImpl::backbone_forward(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;  // frozen: never part of the autograd graph
  return backbone_->forward(x);
}

CprForward CprNetworkImpl::forward(const torch::Tensor& x) {
  CprForward out;
  out.taps = backbone_forward(x);
  for (int i = 0; i < 2; ++i) out.heads[static_cast<size_t>(i)] = lrb_->head(i)->forward(out.taps[static_cast<size_t>(i)]);
  return out;
}

torch::Tensor l2_normalise(const torch::Tensor& f) { return f / (f.norm(2, {1}, true) + 1e-8); }

}  // namespace advad::cpr
