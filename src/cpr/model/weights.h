// Loading CPR weights from the official checkpoints (no conversion step).
//
// The official `weights/<cat>.pth` is `torch.save(model.state_dict())`: an
// OrderedDict, possibly with cuda-tagged storages. It always holds the 78
// `lrb.conv.*` keys; it may also hold the 228 backbone keys
// `backbone.feature_extractor.backbone.features.*`. Those are preferred: the
// official model's construction runs one train-mode forward that changes the
// backbone BN statistics, so they differ from plain ImageNet weights. Only
// when they are absent is the backbone taken from a torchvision
// `densenet201-*.pth` (`features.*`, old `norm.1`-style names accepted).
//
// The official pickled `grb.pth` / `feb.pth` modules are NOT read: the
// codebook, histograms and foreground branch are refitted from the training
// images (see cpr/bank/build.h and the fit_* files).
#pragma once
#include <string>

#include "cpr/model/network.h"
#include "io/state_dict.h"

namespace advad::cpr {

// Prefix of the backbone keys in an official CPR checkpoint.
inline const std::string kOfficialBackbonePrefix = "backbone.feature_extractor.backbone.";

struct WeightsInfo {
  std::string checkpoint;       // file the heads came from
  std::string backbone_source;  // file the backbone came from
  bool backbone_from_checkpoint = false;
  int64_t head_dim = 0;
};

// Output width of the heads stored in a checkpoint (lrb.conv.0.4.weight rows).
// Throws ModelError naming the file when the key is missing.
int64_t checkpoint_head_dim(const StateDict& sd);

// Load heads (strictly) and backbone into net. backbone_weights may be "" when
// the checkpoint carries the backbone. Throws ModelError naming the file, the
// missing keys or the mismatched shapes, and what to do.
WeightsInfo load_cpr_weights(CprNetworkImpl& net, const std::string& checkpoint, const std::string& backbone_weights);
WeightsInfo load_cpr_weights(CprNetworkImpl& net, const StateDict& checkpoint, const std::string& backbone_weights);

// Load only the backbone from a torchvision densenet201 .pth (features.*).
void load_torchvision_backbone(CprNetworkImpl& net, const std::string& path);

// The state dict of a network in the official key layout (306 entries), for
// writing a package's weights.pth that the official code can load too.
StateDict official_state_dict(CprNetworkImpl& net);

}  // namespace advad::cpr
