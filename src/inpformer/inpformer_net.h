// InpFormerNet: the whole INP-Former network as one torch::nn::Module whose
// named_parameters() equal the official state-dict keys, in the official order:
//   prototype_token [M,D]
//   encoder.*        DINOv2 ViT (cls_token, pos_embed, register_tokens, mask_token,
//                    patch_embed.proj.*, blocks.N.*, norm.*) -- frozen
//   bottleneck.0.*   Mlp D -> 4D -> D (fc1, fc2)
//   aggregation.0.*  the INP extractor
//   decoder.N.*      the INP-guided decoder blocks
//
// Use for inference and training:
//   InpFormerNet net(cfg);                       // random init (official scheme: see init_trainable)
//   load_inpformer_weights(*net, path);          // inpformer_weights.h
//   auto out = net->forward(x);                  // x: [B,3,H,W] normalised, H and W multiples of 14
//   auto maps = group_maps(out);                 // anomaly_map.h: [B,G,gh,gw] 1 - cosine
//
// Training: forward() runs the encoder under NoGradGuard (its outputs carry no
// graph); everything after it (prototype_token, aggregation, bottleneck,
// decoder) records autograd. trainable_parameters() lists exactly those.
// Precision: the module may be converted to fp16/bf16 on CUDA (net->to(dev, dtype));
// LayerNorm and softmax then run in float32 internally.
#pragma once
#include <vector>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "inpformer/dinov2_encoder.h"
#include "inpformer/inp_decoder_block.h"
#include "inpformer/inp_extractor.h"
#include "inpformer/inpformer_config.h"
#include "inpformer/mlp.h"

namespace advad::inpformer {

struct InpFormerOutput {
  int64_t grid_h = 0, grid_w = 0;       // token grid (H/14, W/14)
  std::vector<torch::Tensor> enc_groups;  // per group: mean of its encoder taps, [B,D,gh,gw]
  std::vector<torch::Tensor> dec_groups;  // per group: mean of its (reversed) decoder outputs, [B,D,gh,gw]
  torch::Tensor prototypes;             // INPs after the extractor, [B,M,D]
  torch::Tensor fused;                  // mean of the encoder taps (patch tokens), [B,N,D], no grad
  torch::Tensor distance;               // INP coherence distance min_m (1 - cos(fused, P_m)), [B,N]
  // Only with keep_intermediates:
  std::vector<torch::Tensor> enc_taps;     // patch tokens of each tap, [B,N,D]
  torch::Tensor bottleneck;                // bottleneck output, [B,N,D]
  std::vector<torch::Tensor> decoder_out;  // x_1 .. x_L in the decoder's own order, [B,N,D]
};

class InpFormerNetImpl : public torch::nn::Module {
 public:
  explicit InpFormerNetImpl(const InpFormerConfig& cfg);

  InpFormerOutput forward(const torch::Tensor& x, bool keep_intermediates = false);

  // The parts after the encoder, given fused patch tokens [B,N,D] (for
  // training on cached encoder features, and for tests).
  InpFormerOutput forward_from_fused(const torch::Tensor& fused, int64_t grid_h, int64_t grid_w,
                                     const std::vector<torch::Tensor>& enc_taps, bool keep_intermediates = false);

  // prototype_token, bottleneck, aggregation and decoder parameters.
  std::vector<torch::Tensor> trainable_parameters();
  // The official train-phase init of the trainable parts: Linear weights
  // trunc_normal(std 0.01, [-0.03, 0.03]) (via the caller's generator state),
  // biases 0, LayerNorm 1/0, learn_scale 1, prototype_token ~ N(0,1).
  void init_trainable();
  // Freeze the encoder (requires_grad false on all its parameters).
  void freeze_encoder();

  InpFormerConfig cfg;
  torch::Tensor prototype_token;
  Dinov2Encoder encoder{nullptr};
  torch::nn::ModuleList bottleneck{nullptr}, aggregation{nullptr}, decoder{nullptr};
};
TORCH_MODULE(InpFormerNet);

// min over INPs of 1 - cos(fused[b,n], prototypes[b,m]) (eps 1e-8): [B,N].
torch::Tensor coherence_distance(const torch::Tensor& fused, const torch::Tensor& prototypes);

}  // namespace advad::inpformer
