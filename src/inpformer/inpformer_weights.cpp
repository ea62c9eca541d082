#include "inpformer/inpformer_weights.h"

#include <torch/torch.h>

#include "core/error.h"

namespace advad::inpformer {

namespace {
bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// encoder keys a trimmed encoder does not hold: blocks >= depth, norm.*
bool skippable(const std::string& key, const std::string& prefix, int depth) {
  if (!starts_with(key, prefix)) return false;
  std::string rest = key.substr(prefix.size());
  if (starts_with(rest, "norm.")) return true;
  if (!starts_with(rest, "blocks.")) return false;
  try {
    return std::stoi(rest.substr(7)) >= depth;
  } catch (...) {
    return false;
  }
}
}  // namespace

void load_inpformer_weights(InpFormerNet& net, const StateDict& sd, bool trimmed_encoder) {
  const bool full = weights_kind(sd) == WeightsKind::InpFormer;
  const std::string prefix = full ? "encoder." : "";
  const int depth = net->cfg.depth;
  LoadReport rep = full ? load_into(*net, sd, false, trimmed_encoder)
                        : load_into(*net->encoder, sd, false, trimmed_encoder);
  for (const auto& k : rep.unexpected)
    if (!skippable(k, prefix, depth))
      throw ModelError(sd.source + ": unexpected key '" + k + "' for " + net->cfg.describe() +
                       " (weights of a different architecture?)");
}

InpFormerNet make_inpformer_from_weights(const StateDict& sd, const InpFormerConfig& base, bool trim_encoder) {
  InpFormerConfig cfg = infer_config(sd, base);
  cfg.validate();
  if (trim_encoder) cfg.depth = cfg.run_depth();
  InpFormerNet net(cfg);
  load_inpformer_weights(net, sd, trim_encoder);
  return net;
}

StateDict inpformer_state_dict(InpFormerNet& net) {
  StateDict sd;
  for (auto& p : net->named_parameters(true)) {
    sd.keys.push_back(p.key());
    sd.tensors[p.key()] = p.value().detach();
  }
  return sd;
}

}  // namespace advad::inpformer
