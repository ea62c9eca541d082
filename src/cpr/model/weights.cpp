#include "cpr/model/weights.h"

#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"

namespace advad::cpr {
namespace {

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// Names the module expects (parameters and buffers), with the given prefix.
std::vector<std::pair<std::string, torch::Tensor>> expected_entries(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

// Load `sd` (names relative to `module`) into it. Missing BN counters are
// filled with 0 (old torchvision files lack them); everything else must be
// present with the right shape. `what` and `hint` go into the error message.
void load_part(torch::nn::Module& module, StateDict sd, const std::string& what, const std::string& hint) {
  std::vector<std::string> missing;
  std::ostringstream bad_shapes;
  for (const auto& [name, t] : expected_entries(module)) {
    if (!sd.has(name)) {
      static const std::string counter = "num_batches_tracked";
      if (name.size() >= counter.size() && name.compare(name.size() - counter.size(), counter.size(), counter) == 0) {
        sd.keys.push_back(name);
        sd.tensors[name] = torch::zeros({}, torch::kLong);
        continue;
      }
      missing.push_back(name);
    } else if (sd.tensors.at(name).sizes() != t.sizes()) {
      bad_shapes << "\n  " << name << ": file has " << shape_str(sd.tensors.at(name)) << ", model needs "
                 << shape_str(t);
    }
  }
  if (!missing.empty()) {
    std::ostringstream s;
    s << sd.source << ": " << missing.size() << " " << what << " key(s) missing, e.g.";
    for (size_t i = 0; i < missing.size() && i < 5; ++i) s << " '" << missing[i] << "'";
    s << ". " << hint;
    throw ModelError(s.str());
  }
  if (!bad_shapes.str().empty())
    throw ModelError(sd.source + ": " + what + " tensors do not fit the CPR model (DenseNet201 + 2 LRB heads):" +
                     bad_shapes.str());
  load_into(module, sd, /*allow_missing=*/false, /*allow_unexpected=*/true);
}

// Keys of `sd` under prefix that the module does not have (architecture mismatch).
void reject_unexpected(torch::nn::Module& module, const StateDict& sd, const std::string& what) {
  std::set<std::string> known;
  for (const auto& e : expected_entries(module)) known.insert(e.first);
  for (const auto& k : sd.keys)
    if (!known.count(k))
      throw ModelError(sd.source + ": unexpected " + what + " key '" + k +
                       "': the file is not a CPR DenseNet201 checkpoint of the supported layout");
}

bool has_prefix(const StateDict& sd, const std::string& prefix) {
  for (const auto& k : sd.keys)
    if (k.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

int64_t checkpoint_head_dim(const StateDict& sd) {
  const std::string key = "lrb.conv.0.4.weight";
  if (!sd.has(key))
    throw ModelError(sd.source + ": no '" + key +
                     "': not an official CPR checkpoint (weights/<category>.pth with lrb.conv.* keys)");
  const auto& t = sd.tensors.at(key);
  if (t.dim() != 4) throw ModelError(sd.source + ": '" + key + "' has shape " + shape_str(t) + ", expected [D,256,1,1]");
  return t.size(0);
}

namespace {

// Rename old torchvision DenseNet keys ("denselayer1.norm.1.weight") to the
// current ones ("denselayer1.norm1.weight"), as torchvision does on load.
StateDict modernise_densenet_keys(const StateDict& sd) {
  static const std::regex old_name(R"(^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$)");
  StateDict out;
  out.source = sd.source;
  for (const auto& k : sd.keys) {
    std::smatch m;
    std::string nk = k;
    if (std::regex_match(k, m, old_name)) nk = m[1].str() + m[2].str();
    out.keys.push_back(nk);
    out.tensors[nk] = sd.tensors.at(k);
  }
  return out;
}

}  // namespace

void load_torchvision_backbone(CprNetworkImpl& net, const std::string& path) {
  StateDict sd = modernise_densenet_keys(load_state_dict(path));
  if (!has_prefix(sd, "features."))
    throw ModelError(path + ": no 'features.*' keys: expected torchvision's densenet201 ImageNet weights "
                            "(densenet201-c1103571.pth)");
  // Keep only the part of `features` the truncated trunk has (drops denseblock3.., classifier).
  StateDict part;
  part.source = path;
  std::set<std::string> known;
  for (const auto& e : expected_entries(*net.backbone())) known.insert(e.first);
  for (const auto& k : sd.keys)
    if (known.count(k)) {
      part.keys.push_back(k);
      part.tensors[k] = sd.tensors.at(k);
    }
  load_part(*net.backbone(), part, "backbone",
            "Expected torchvision densenet201 weights (features.conv0 ... features.denseblock2).");
}

WeightsInfo load_cpr_weights(CprNetworkImpl& net, const std::string& checkpoint, const std::string& backbone_weights) {
  return load_cpr_weights(net, load_state_dict(checkpoint), backbone_weights);
}

WeightsInfo load_cpr_weights(CprNetworkImpl& net, const StateDict& sd, const std::string& backbone_weights) {
  WeightsInfo info;
  info.checkpoint = sd.source;
  info.head_dim = checkpoint_head_dim(sd);
  if (info.head_dim != net.head_dim())
    throw ModelError(sd.source + ": heads output " + std::to_string(info.head_dim) + " channels, the model was built for " +
                     std::to_string(net.head_dim()));

  StateDict heads = strip_prefix(sd, "lrb.");
  heads.source = sd.source;
  reject_unexpected(*net.lrb(), heads, "lrb");
  load_part(*net.lrb(), heads, "lrb",
            "An official CPR checkpoint has all 78 lrb.conv.{0,1}.* entries; was the file cut or renamed?");

  if (has_prefix(sd, kOfficialBackbonePrefix)) {
    StateDict bb = strip_prefix(sd, kOfficialBackbonePrefix);
    bb.source = sd.source;
    reject_unexpected(*net.backbone(), bb, "backbone");
    load_part(*net.backbone(), bb, "backbone", "The checkpoint's backbone part is incomplete.");
    info.backbone_source = sd.source;
    info.backbone_from_checkpoint = true;
  } else {
    if (backbone_weights.empty())
      throw ModelError(sd.source + ": the checkpoint has no backbone keys (" + kOfficialBackbonePrefix +
                       "features.*); name torchvision's densenet201 ImageNet weights with [cpr] backbone_weights "
                       "(or --backbone)");
    load_torchvision_backbone(net, backbone_weights);
    info.backbone_source = backbone_weights;
  }
  return info;
}

StateDict official_state_dict(CprNetworkImpl& net) {
  StateDict sd;
  sd.source = "<cpr network>";
  auto add = [&sd](const std::string& prefix, torch::nn::Module& m) {
    for (const auto& [name, t] : expected_entries(m)) {
      sd.keys.push_back(prefix + name);
      sd.tensors[prefix + name] = t.detach().to(torch::kCPU).contiguous();
    }
  };
  add("lrb.", *net.lrb());
  add(kOfficialBackbonePrefix, *net.backbone());
  return sd;
}

}  // namespace advad::cpr
