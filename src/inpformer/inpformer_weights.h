// Loading INP-Former weights straight from the files people have: the
// official model.pth (full network) or a DINOv2 dinov2_vit*14[_reg4]_pretrain.pth
// (encoder only, keys without "encoder."), with strict key/shape checks.
#pragma once
#include <string>

#include "inpformer/inpformer_net.h"
#include "io/state_dict.h"

namespace advad::inpformer {

// Copy sd into net. A full INP-Former state dict must match every parameter;
// a DINOv2 one fills the encoder only (the trainable parts keep their values).
// With trimmed_encoder, the net may hold fewer encoder blocks than the file
// (blocks after the last tap and encoder.norm are then skipped); any other
// missing/unexpected key or shape mismatch throws ModelError naming file and key.
void load_inpformer_weights(InpFormerNet& net, const StateDict& sd, bool trimmed_encoder = false);

// Build a network from a weights file: the architecture is inferred from the
// shapes (infer_config, taps/groups from `base`). With trim_encoder the
// encoder holds only the blocks that run (saves memory for inference).
InpFormerNet make_inpformer_from_weights(const StateDict& sd, const InpFormerConfig& base = {},
                                         bool trim_encoder = false);

// The network's parameters as an ordered state dict (official key order).
StateDict inpformer_state_dict(InpFormerNet& net);

}  // namespace advad::inpformer
