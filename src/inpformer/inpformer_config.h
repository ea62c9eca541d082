// InpFormerConfig: every architecture number of an INP-Former network
// (DINOv2 encoder + INP extractor + bottleneck + INP-guided decoder), with the
// official presets and inference from a state dict's shapes.
#pragma once
#include <string>
#include <vector>

#include "io/state_dict.h"

namespace advad::inpformer {

struct InpFormerConfig {
  // Encoder (DINOv2 ViT/14).
  int embed_dim = 768;
  int depth = 12;             // blocks stored in the weights (only blocks up to the last tap run)
  int heads = 12;
  int registers = 4;          // register tokens (0 = plain DINOv2)
  int patch_size = 14;
  int img_size = 518;         // position table covers (img_size / patch_size)^2 patches
  int mlp_ratio = 4;          // hidden = mlp_ratio * embed_dim, encoder and INP modules
  int swiglu_hidden = 0;      // > 0: the encoder's FFN is DINOv2's fused SwiGLU of this width (ViT-g: 4096)
  double encoder_eps = 1e-6;  // LayerNorm eps of the encoder
  double pos_offset = 0.1;    // interpolate_offset of the position-table resampling
  // INP modules.
  std::vector<int> taps{2, 3, 4, 5, 6, 7, 8, 9};  // encoder blocks whose outputs are fused (0-based, ascending)
  int n_inps = 6;             // prototypes (INPs)
  int n_decoder = 8;          // INP-guided decoder blocks
  double inp_eps = 1e-8;      // LayerNorm eps of extractor and decoder
  // Groups compared for the anomaly map: indices into the taps (encoder) and into
  // the REVERSED decoder outputs [x_L .. x_1] (decoder).
  std::vector<std::vector<int>> enc_groups{{0, 1, 2, 3}, {4, 5, 6, 7}};
  std::vector<std::vector<int>> dec_groups{{0, 1, 2, 3}, {4, 5, 6, 7}};

  int head_dim() const { return embed_dim / heads; }
  int hidden_dim() const { return embed_dim * mlp_ratio; }
  int pos_grid() const { return img_size / patch_size; }
  int run_depth() const { return taps.empty() ? 0 : taps.back() + 1; }  // blocks actually run
  // Throws ModelError naming the inconsistent field.
  void validate() const;         // both checks below, ModelError naming the bad field
  void validate_shapes() const;  // dims, heads, depth, registers, patch/img size, INPs, decoder blocks
  void validate_taps() const;    // taps inside 0..depth-1 and ascending; group indices in range
  std::string describe() const;  // e.g. "ViT-B/14-reg4 D=768 depth 12 taps 2..9 INPs 6 decoder 8"
};

// Encoder names: vit_small | vit_base | vit_large | vit_giant (DINOv2 /14, the official tap lists:
// S and B use 2..9, L uses 4,6,...,18; INP-Former has no ViT-g recipe: its taps are L's scaled
// to 40 blocks, 7,10,13,17,20,23,27,30, with the fused SwiGLU FFN of width 4096). `registers` 4 or 0. Throws ModelError otherwise.
InpFormerConfig preset_config(const std::string& encoder, int registers = 4);
// "vit_small" / "vit_base" / "vit_large" when cfg's encoder dims match a preset, else "custom".
std::string encoder_name(const InpFormerConfig& cfg);

// What a state dict looks like.
enum class WeightsKind {
  InpFormer,  // official model.pth: prototype_token, encoder.*, bottleneck.*, aggregation.*, decoder.*
  Dinov2,     // DINOv2 pretrain file: encoder keys without the "encoder." prefix
};
WeightsKind weights_kind(const StateDict& sd);  // throws ModelError naming the file when neither

// Infer embed_dim, depth, heads (from the known DINOv2 widths; custom widths
// take heads = embed_dim / 64 unless learn_scale tells), registers, img_size,
// n_inps and n_decoder from the shapes. Taps and groups keep `base`'s values,
// except that the official ViT-L tap list is used for 24-block encoders when
// base has the default ViT-S/B list. Throws ModelError naming the file and key.
InpFormerConfig infer_config(const StateDict& sd, InpFormerConfig base = {});

}  // namespace advad::inpformer
