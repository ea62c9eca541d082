// torch.save archives: the zip container (caffe2::serialize::PyTorchStreamReader),
// the storages behind persistent ids and the tensor-rebuilding globals.
#include "io/torch_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"

namespace advad::torch_archive {

using pickle::Value;
using pickle::ValuePtr;

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

std::string shape_str(c10::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

namespace {

// Globals every torch.save pickle may use for its tensors and containers
// ("__builtin__" is protocol 2's name for "builtins").
bool tensor_global(const std::string& module, const std::string& name) {
  static const std::set<std::string> known = {
      "collections.OrderedDict",         "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
      "builtins.set",                    "__builtin__.set",
      "torch.storage.UntypedStorage"};
  if (known.count(module + "." + name)) return true;
  if (module == "torch")
    for (auto& [n, _] : storage_types())
      if (n == name) return true;
  return false;
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

// Calls of the tensor globals; nullptr for any other callable.
ValuePtr tensor_call(const ValuePtr& fn, const ValuePtr& args) {
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
  if (f == "builtins.set" || f == "__builtin__.set") {  // e.g. a module's _non_persistent_buffers_set; kept as a list
    auto l = Value::make(Value::Kind::List);
    if (!args->items.empty()) l->items = args->items[0]->items;
    return l;
  }
  return nullptr;
}

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

ValuePtr load(const std::string& path, const OtherGlobals& other) {
  check_container(path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": not a readable torch zip archive (truncated or corrupt?): " +
                     first_line(e.what_without_backtrace()));
  }
  try {
    if (!reader->hasRecord("data.pkl")) {
      std::string hint = reader->hasRecord("constants.pkl") ? " (this looks like a TorchScript module)" : "";
      throw ModelError(path + ": archive has no data.pkl, so it is not a torch.save checkpoint" + hint);
    }
    auto [pkl, pkl_size] = reader->getRecord("data.pkl");
    StorageLoader storages(*reader, path);
    pickle::Hooks hooks;
    hooks.find_class = [&](const std::string& module, const std::string& name) {
      if (!tensor_global(module, name)) return other.find_class(module, name);
      auto v = Value::make(Value::Kind::Global);
      v->s = module + "." + name;
      return v;
    };
    hooks.call = [&](const ValuePtr& fn, const ValuePtr& args) {
      if (fn->kind != Value::Kind::Global) throw ModelError(std::string("data.pkl: call of a ") + fn->kind_name());
      if (auto v = tensor_call(fn, args)) return v;
      if (!other.call) throw ModelError("data.pkl: unsupported call of '" + fn->s + "'");
      return other.call(fn, args);
    };
    hooks.build = [&](const ValuePtr& obj, const ValuePtr& state) {
      return other.build ? other.build(obj, state) : obj;
    };
    hooks.persistent_load = [&](const ValuePtr& pid) { return storages.load(pid); };
    return pickle::unpickle(static_cast<const char*>(pkl.get()), pkl_size, hooks);
  } catch (const ModelError& e) {
    std::string m = e.what();
    if (starts_with(m, path)) throw;
    throw ModelError(path + ": " + m);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": corrupt archive record: " + first_line(e.what_without_backtrace()));
  }
}

}  // namespace advad::torch_archive
