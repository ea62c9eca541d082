// State dict reader / writer on top of the torch.save archive reader
// (io/torch_archive.h) and LibTorch's zip writer (PyTorchStreamWriter).
#include "io/state_dict.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <set>
#include <sstream>

#include "core/error.h"
#include "io/pickle.h"
#include "io/torch_archive.h"

namespace advad {

using pickle::Value;
using pickle::ValuePtr;
using torch_archive::first_line;
using torch_archive::shape_str;
using torch_archive::starts_with;

const torch::Tensor& StateDict::at(const std::string& k) const {
  auto it = tensors.find(k);
  if (it == tensors.end())
    throw ModelError((source.empty() ? std::string("state dict") : source) + ": missing key '" + k + "'");
  return it->second;
}

namespace {

// A state dict holds tensors only: any global beyond the tensor machinery is refused by name.
ValuePtr refuse_class(const std::string& module, const std::string& name) {
  throw ModelError("data.pkl: unsupported Python global '" + module + "." + name +
                   "' (only plain state dicts of tensors can be read; re-save with "
                   "torch.save(model.state_dict()))");
}

}  // namespace

StateDict load_state_dict(const std::string& path) {
  // BUILD: an OrderedDict's instance dict (e.g. state_dict's _metadata) is not needed.
  ValuePtr root = torch_archive::load(path, {refuse_class, nullptr, nullptr});
  if (root->kind != Value::Kind::Dict)
    throw ModelError(path + ": holds a " + std::string(root->kind_name()) + ", not a state dict (a dict of tensors)");
  StateDict sd;
  sd.source = path;
  for (auto& [k, v] : root->entries) {
    if (k->kind != Value::Kind::String) throw ModelError(path + ": state dict has a non-string key");
    if (v->kind != Value::Kind::Tensor)
      throw ModelError(path + ": entry '" + k->s + "' is a " + v->kind_name() +
                       ", not a tensor; is this a training checkpoint? save model.state_dict() instead");
    if (!sd.tensors.count(k->s)) sd.keys.push_back(k->s);
    sd.tensors[k->s] = v->tensor;
  }
  return sd;
}

void save_state_dict(const StateDict& sd, const std::string& path) {
  pickle::Writer w;
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.mark();
  std::vector<torch::Tensor> data;
  for (const auto& key : sd.keys) {
    torch::Tensor t = sd.at(key).detach().to(torch::kCPU).contiguous();
    std::string type;
    for (auto& [n, st] : torch_archive::storage_types())
      if (st == t.scalar_type()) type = n;
    if (type.empty())
      throw ModelError(path + ": cannot save key '" + key + "' of dtype " + std::string(c10::toString(t.scalar_type())));
    w.string(key);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    // persistent id ('storage', torch.<Type>Storage, '<n>', 'cpu', numel)
    w.mark();
    w.string("storage");
    w.global("torch", type);
    w.string(std::to_string(data.size()));
    w.string("cpu");
    w.integer(t.numel());
    w.tuple();
    w.binpersid();
    w.integer(0);
    w.mark();
    for (auto s : t.sizes()) w.integer(s);
    w.tuple();
    w.mark();
    for (auto s : t.strides()) w.integer(s);
    w.tuple();
    w.boolean(false);
    w.global("collections", "OrderedDict");
    w.empty_tuple();
    w.reduce();
    w.tuple();
    w.reduce();
    data.push_back(t);
  }
  w.setitems();
  w.stop();
  try {
    caffe2::serialize::PyTorchStreamWriter writer(path);
    writer.writeRecord("data.pkl", w.bytes().data(), w.bytes().size());
    for (size_t i = 0; i < data.size(); ++i)
      writer.writeRecord("data/" + std::to_string(i), data[i].data_ptr(), data[i].nbytes());
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    throw ModelError(path + ": cannot write the state dict: " + first_line(e.what_without_backtrace()));
  }
}

StateDict strip_prefix(const StateDict& sd, const std::string& prefix) {
  StateDict r;
  r.source = sd.source;
  for (const auto& k : sd.keys)
    if (starts_with(k, prefix)) {
      std::string nk = k.substr(prefix.size());
      r.keys.push_back(nk);
      r.tensors[nk] = sd.tensors.at(k);
    }
  return r;
}

LoadReport load_into(torch::nn::Module& module, const StateDict& sd, bool allow_missing, bool allow_unexpected) {
  LoadReport rep;
  const std::string src = sd.source.empty() ? "state dict" : sd.source;
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (auto& p : module.named_parameters(true)) targets.emplace_back(p.key(), p.value());
  for (auto& b : module.named_buffers(true)) targets.emplace_back(b.key(), b.value());
  std::set<std::string> wanted;
  for (auto& [name, t] : targets) {
    wanted.insert(name);
    auto it = sd.tensors.find(name);
    if (it == sd.tensors.end()) {
      rep.missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != t.sizes())
      throw ModelError(src + ": key '" + name + "' has shape " + shape_str(it->second.sizes()) +
                       ", the model expects " + shape_str(t.sizes()) + " (weights of a different architecture?)");
  }
  for (const auto& k : sd.keys)
    if (!wanted.count(k)) rep.unexpected.push_back(k);
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", '" : "'") + v[i] + "'";
    if (v.size() > 5) s += " and " + std::to_string(v.size() - 5) + " more";
    return s;
  };
  if (!allow_missing && !rep.missing.empty())
    throw ModelError(src + ": " + std::to_string(rep.missing.size()) + " key(s) the model needs are missing: " +
                     list(rep.missing) + " (weights of a different architecture?)");
  if (!allow_unexpected && !rep.unexpected.empty())
    throw ModelError(src + ": " + std::to_string(rep.unexpected.size()) + " unexpected key(s): " +
                     list(rep.unexpected) + " (weights of a different architecture?)");
  torch::NoGradGuard ng;
  for (auto& [name, t] : targets) {
    auto it = sd.tensors.find(name);
    if (it != sd.tensors.end()) t.copy_(it->second);
  }
  return rep;
}

}  // namespace advad
