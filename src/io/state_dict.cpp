// State dict reader / writer on top of the small unpickler (io/pickle.h) and
// LibTorch's zip container (caffe2::serialize::PyTorchStreamReader/Writer).
#include "io/state_dict.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "io/pickle.h"

namespace advad {

using pickle::Value;
using pickle::ValuePtr;

const torch::Tensor& StateDict::at(const std::string& k) const {
  auto it = tensors.find(k);
  if (it == tensors.end())
    throw ModelError((source.empty() ? std::string("state dict") : source) + ": missing key '" + k + "'");
  return it->second;
}

namespace {

std::string shape_str(c10::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

// Legacy typed-storage class names <-> dtypes (what persistent ids carry).
const std::vector<std::pair<std::string, torch::ScalarType>>& storage_types() {
  static const std::vector<std::pair<std::string, torch::ScalarType>> t = {
      {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64},
      {"HalfStorage", torch::kFloat16},  {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kInt64},    {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16},   {"CharStorage", torch::kInt8},
      {"ByteStorage", torch::kUInt8},    {"BoolStorage", torch::kBool},
  };
  return t;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// The global names a state dict may reference; anything else is refused by name.
ValuePtr find_class(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  static const std::set<std::string> known = {
      "collections.OrderedDict",        "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
      "builtins.set",                   "torch.storage.UntypedStorage"};
  bool ok = known.count(full) != 0;
  if (module == "torch")
    for (auto& [n, _] : storage_types()) ok = ok || n == name;
  if (!ok)
    throw ModelError("data.pkl: unsupported Python global '" + full +
                     "' (only plain state dicts of tensors can be read; re-save with "
                     "torch.save(model.state_dict()))");
  auto v = Value::make(Value::Kind::Global);
  v->s = full;
  return v;
}

std::vector<int64_t> int_tuple(const ValuePtr& v, const char* what) {
  if (v->kind != Value::Kind::Tuple && v->kind != Value::Kind::List)
    throw ModelError(std::string("data.pkl: tensor ") + what + " is a " + v->kind_name() + ", not a tuple");
  std::vector<int64_t> r;
  for (auto& e : v->items) {
    if (e->kind != Value::Kind::Int) throw ModelError(std::string("data.pkl: tensor ") + what + " holds a non-integer");
    r.push_back(e->i);
  }
  return r;
}

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
ValuePtr rebuild_tensor(const ValuePtr& args) {
  if (args->items.size() < 4 || args->items[0]->kind != Value::Kind::Tensor ||
      args->items[1]->kind != Value::Kind::Int)
    throw ModelError("data.pkl: malformed _rebuild_tensor_v2 arguments");
  const torch::Tensor& storage = args->items[0]->tensor;
  int64_t offset = args->items[1]->i;
  auto size = int_tuple(args->items[2], "size");
  auto stride = int_tuple(args->items[3], "stride");
  if (size.size() != stride.size()) throw ModelError("data.pkl: tensor size and stride differ in length");
  int64_t last = offset, numel = 1;
  for (size_t d = 0; d < size.size(); ++d) {
    if (size[d] < 0 || stride[d] < 0) throw ModelError("data.pkl: negative tensor size or stride");
    numel *= size[d];
    last += (size[d] - 1) * stride[d];
  }
  if (offset < 0 || (numel > 0 && last >= storage.numel()))
    throw ModelError("data.pkl: tensor of shape " + shape_str(size) + " at offset " + std::to_string(offset) +
                     " reads past its storage of " + std::to_string(storage.numel()) + " elements");
  auto v = Value::make(Value::Kind::Tensor);
  v->tensor = storage.as_strided(size, stride, offset);
  return v;
}

ValuePtr call(const ValuePtr& fn, const ValuePtr& args) {
  if (fn->kind != Value::Kind::Global) throw ModelError(std::string("data.pkl: call of a ") + fn->kind_name());
  const std::string& f = fn->s;
  if (f == "collections.OrderedDict") {
    auto d = Value::make(Value::Kind::Dict);
    d->s = f;
    return d;
  }
  if (f == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(args);
  if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
    if (args->items.empty() || args->items[0]->kind != Value::Kind::Tensor)
      throw ModelError("data.pkl: malformed " + f + " arguments");
    return args->items[0];
  }
  if (f == "builtins.set") {  // appears in metadata of some checkpoints; keep as a list
    auto l = Value::make(Value::Kind::List);
    if (!args->items.empty()) l->items = args->items[0]->items;
    return l;
  }
  throw ModelError("data.pkl: unsupported call of '" + f + "'");
}

// BUILD: an OrderedDict's instance dict (e.g. state_dict's _metadata) is not
// needed; tensors rebuilt by _rebuild_parameter_with_state ignore their state.
ValuePtr build(const ValuePtr& obj, const ValuePtr&) { return obj; }

// Reads tensors' storages out of the zip, once per key.
class StorageLoader {
 public:
  StorageLoader(caffe2::serialize::PyTorchStreamReader& r, std::string src) : reader_(r), src_(std::move(src)) {}

  ValuePtr load(const ValuePtr& pid) {
    if (pid->kind != Value::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Value::Kind::String ||
        pid->items[0]->s != "storage")
      throw ModelError("data.pkl: unknown persistent id (expected ('storage', type, key, location, numel))");
    const auto& type = pid->items[1];
    const auto& key = pid->items[2];
    const auto& numel = pid->items[4];
    if (type->kind != Value::Kind::Global || key->kind != Value::Kind::String || numel->kind != Value::Kind::Int)
      throw ModelError("data.pkl: malformed storage persistent id");
    torch::ScalarType dtype = torch::kFloat32;
    bool found = false;
    for (auto& [n, t] : storage_types())
      if (type->s == "torch." + n) dtype = t, found = true;
    if (!found) throw ModelError("data.pkl: unsupported storage type '" + type->s + "'");
    auto it = cache_.find(key->s);
    if (it != cache_.end()) return it->second;

    const std::string rec = "data/" + key->s;
    if (!reader_.hasRecord(rec))
      throw ModelError(src_ + ": tensor storage '" + rec + "' is missing from the archive (incomplete file?)");
    auto [ptr, bytes] = reader_.getRecord(rec);
    size_t need = static_cast<size_t>(numel->i) * c10::elementSize(dtype);
    if (bytes < need)
      throw ModelError(src_ + ": tensor storage '" + rec + "' holds " + std::to_string(bytes) + " bytes, needs " +
                       std::to_string(need) + " (truncated file?)");
    // Adopt the record's buffer without a copy.
    auto holder = std::make_shared<at::DataPtr>(std::move(ptr));
    void* raw = holder->get();
    auto v = Value::make(Value::Kind::Tensor);
    v->tensor = torch::from_blob(raw, {numel->i}, [holder](void*) mutable { holder.reset(); },
                                 torch::TensorOptions().dtype(dtype));
    cache_[key->s] = v;
    return v;
  }

 private:
  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string src_;
  std::map<std::string, ValuePtr> cache_;
};

void check_container(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open the file (does it exist and is it readable?)");
  char head[4] = {0, 0, 0, 0};
  f.read(head, 4);
  if (f.gcount() < 4) throw ModelError(path + ": file is empty or truncated, not a torch checkpoint");
  if (head[0] == 'P' && head[1] == 'K') return;
  if (static_cast<unsigned char>(head[0]) == 0x80)
    throw ModelError(path +
                     ": legacy (pre-1.6, non-zip) torch.save format, which advad cannot read; re-save it in "
                     "Python with torch.save(torch.load(path, map_location='cpu'), path) (torch >= 1.6)");
  throw ModelError(path + ": not a torch checkpoint (expected a torch.save zip archive)");
}

}  // namespace

StateDict load_state_dict(const std::string& path) {
  check_container(path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": not a readable torch zip archive (truncated or corrupt?): " +
                     first_line(e.what_without_backtrace()));
  }
  StateDict sd;
  sd.source = path;
  try {
    if (!reader->hasRecord("data.pkl")) {
      std::string hint = reader->hasRecord("constants.pkl") ? " (this looks like a TorchScript module)" : "";
      throw ModelError(path + ": archive has no data.pkl, so it is not a torch.save checkpoint" + hint);
    }
    auto [pkl, pkl_size] = reader->getRecord("data.pkl");
    StorageLoader storages(*reader, path);
    pickle::Hooks hooks;
    hooks.find_class = find_class;
    hooks.call = call;
    hooks.build = build;
    hooks.persistent_load = [&](const ValuePtr& pid) { return storages.load(pid); };
    ValuePtr root = pickle::unpickle(static_cast<const char*>(pkl.get()), pkl_size, hooks);
    if (root->kind != Value::Kind::Dict)
      throw ModelError(path + ": holds a " + std::string(root->kind_name()) + ", not a state dict (a dict of tensors)");
    for (auto& [k, v] : root->entries) {
      if (k->kind != Value::Kind::String) throw ModelError(path + ": state dict has a non-string key");
      if (v->kind != Value::Kind::Tensor)
        throw ModelError(path + ": entry '" + k->s + "' is a " + v->kind_name() +
                         ", not a tensor; is this a training checkpoint? save model.state_dict() instead");
      if (!sd.tensors.count(k->s)) sd.keys.push_back(k->s);
      sd.tensors[k->s] = v->tensor;
    }
  } catch (const ModelError& e) {
    std::string m = e.what();
    if (starts_with(m, path)) throw;
    throw ModelError(path + ": " + m);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": corrupt archive record: " + first_line(e.what_without_backtrace()));
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
    for (auto& [n, st] : storage_types())
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
