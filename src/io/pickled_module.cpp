// Pickled modules on top of the torch.save archive reader: classes become
// Object values (NEWOBJ/REDUCE), BUILD stores the instance __dict__, and the
// module tree is read from each __dict__'s _parameters / _buffers / _modules.
#include "io/pickled_module.h"

#include "core/error.h"
#include "io/pickle.h"
#include "io/torch_archive.h"

namespace advad {

using pickle::Value;
using pickle::ValuePtr;

namespace {

constexpr int kMaxDepth = 64;  // guards against self-referencing (memoised) module trees

ValuePtr any_class(const std::string& module, const std::string& name) {
  auto v = Value::make(Value::Kind::Global);
  v->s = module + "." + name;
  return v;
}

// cls.__new__(cls, *args) / cls(*args): an object of that class, state set by BUILD.
ValuePtr instantiate(const ValuePtr& cls, const ValuePtr& args) {
  auto o = Value::make(Value::Kind::Object);
  o->s = cls->s;
  o->items = args->items;
  return o;
}

// obj.__setstate__(state) for plain objects: state is the __dict__, or (__dict__, slots).
ValuePtr set_state(const ValuePtr& obj, const ValuePtr& state) {
  if (obj->kind != Value::Kind::Object) return obj;
  ValuePtr d = state;
  if (d->kind == Value::Kind::Tuple && !d->items.empty()) d = d->items[0];
  if (d->kind == Value::Kind::Dict) obj->entries.insert(obj->entries.end(), d->entries.begin(), d->entries.end());
  return obj;
}

const ValuePtr* entry(const Value& dict, const std::string& key) {
  for (const auto& [k, v] : dict.entries)
    if (k->kind == Value::Kind::String && k->s == key) return &v;
  return nullptr;
}

bool is_module(const Value& v) {
  return v.kind == Value::Kind::Object && entry(v, "_parameters") && entry(v, "_modules");
}

std::shared_ptr<PickledModule> convert(const Value& obj, const std::string& source, const std::string& name,
                                       int depth) {
  if (depth > kMaxDepth) throw ModelError(source + ": module tree nested deeper than " + std::to_string(kMaxDepth));
  auto m = std::make_shared<PickledModule>();
  m->type = obj.s;
  m->source = source;
  m->name = name;
  const std::string where = name.empty() ? "the root module" : "module '" + name + "'";
  auto tensors = [&](const char* key, std::map<std::string, torch::Tensor>& out) {
    const ValuePtr* d = entry(obj, key);
    if (!d) return;
    if ((*d)->kind != Value::Kind::Dict) throw ModelError(source + ": " + where + "'s " + key + " is not a dict");
    for (const auto& [k, v] : (*d)->entries) {
      if (v->kind == Value::Kind::None) continue;
      if (k->kind != Value::Kind::String || v->kind != Value::Kind::Tensor)
        throw ModelError(source + ": " + where + "'s " + key + " holds a " + v->kind_name() + ", not a tensor");
      out[k->s] = v->tensor;
    }
  };
  tensors("_parameters", m->parameters);
  tensors("_buffers", m->buffers);
  for (const auto& [k, v] : (*entry(obj, "_modules"))->entries) {
    if (v->kind == Value::Kind::None || k->kind != Value::Kind::String) continue;
    const std::string child = name.empty() ? k->s : name + "." + k->s;
    if (!is_module(*v)) throw ModelError(source + ": submodule '" + child + "' is a " + v->kind_name() + ", not a module");
    m->children[k->s] = convert(*v, source, child, depth + 1);
  }
  for (const auto& [k, v] : obj.entries) {
    if (k->kind != Value::Kind::String) continue;
    if (v->kind == Value::Kind::Int) m->numbers[k->s] = static_cast<double>(v->i);
    if (v->kind == Value::Kind::Float) m->numbers[k->s] = v->f;
    if (v->kind == Value::Kind::Bool) m->numbers[k->s] = v->b ? 1 : 0;
    if (v->kind == Value::Kind::String) m->strings[k->s] = v->s;
  }
  return m;
}

}  // namespace

std::string PickledModule::class_name() const { return type.substr(type.rfind('.') + 1); }

const PickledModule& PickledModule::child(const std::string& key) const {
  auto it = children.find(key);
  if (it == children.end())
    throw ModelError(source + ": " + class_name() + (name.empty() ? "" : " '" + name + "'") + " has no submodule '" +
                     key + "'");
  return *it->second;
}

const torch::Tensor& PickledModule::tensor(const std::string& key) const {
  auto it = parameters.find(key);
  if (it != parameters.end()) return it->second;
  it = buffers.find(key);
  if (it != buffers.end()) return it->second;
  throw ModelError(source + ": " + class_name() + (name.empty() ? "" : " '" + name + "'") +
                   " has no parameter or buffer '" + key + "'");
}

PickledModule load_pickled_module(const std::string& path) {
  ValuePtr root = torch_archive::load(path, {any_class, instantiate, set_state});
  if (root->kind == Value::Kind::Dict) {
    size_t tensors = 0;
    for (const auto& e : root->entries) tensors += e.second->kind == Value::Kind::Tensor;
    throw ModelError(path + ": holds a state dict (a dict of " + std::to_string(tensors) +
                     " tensors), not a pickled module (torch.save(module))");
  }
  if (!is_module(*root))
    throw ModelError(path + ": holds a " + (root->kind == Value::Kind::Object ? "'" + root->s + "' object" : std::string(root->kind_name())) +
                     ", not a pickled torch.nn.Module");
  return *convert(*root, path, "", 0);
}

}  // namespace advad
