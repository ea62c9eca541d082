// A small unpickler and pickler for the subset of Python's pickle format that
// torch.save uses for state dicts (protocols 2-5). Internal to src/io: the
// public API is state_dict.h. Only plain data (None, bool, int, float, str,
// tuple, list, dict) is built here; everything torch-specific (globals, REDUCE,
// BUILD, persistent ids) goes through the Hooks the caller provides.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <torch/types.h>

namespace advad::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Tensor, Object };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;  // String: the text; Global: "module.name"; Object: its type name
  std::vector<ValuePtr> items;                          // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;   // Dict (insertion order)
  torch::Tensor tensor;                                 // Tensor (also typed storages)

  static ValuePtr make(Kind k) {
    auto v = std::make_shared<Value>();
    v->kind = k;
    return v;
  }
  static ValuePtr str(std::string text) {
    auto v = make(Kind::String);
    v->s = std::move(text);
    return v;
  }
  static ValuePtr integer(int64_t x) {
    auto v = make(Kind::Int);
    v->i = x;
    return v;
  }
  const char* kind_name() const;
};

// What the caller decides about torch-specific opcodes. Each hook may throw
// advad::ModelError; the unpickler adds no file name (the caller does).
struct Hooks {
  // GLOBAL / STACK_GLOBAL: return a Global value (or throw for unsupported names).
  std::function<ValuePtr(const std::string& module, const std::string& name)> find_class;
  // REDUCE / NEWOBJ: callable (as returned by find_class) applied to an args tuple.
  std::function<ValuePtr(const ValuePtr& callable, const ValuePtr& args)> call;
  // BUILD: object.__setstate__(state). Return the (possibly new) object.
  std::function<ValuePtr(const ValuePtr& object, const ValuePtr& state)> build;
  // BINPERSID / PERSID: the persistent id (a tuple for torch storages).
  std::function<ValuePtr(const ValuePtr& pid)> persistent_load;
};

// Unpickle one object. Throws advad::ModelError on malformed or truncated data
// and on opcodes outside the supported subset (naming the opcode and offset).
ValuePtr unpickle(const char* data, size_t size, const Hooks& hooks);

// Append-only pickle writer (protocol 2) for building a torch state dict.
class Writer {
 public:
  Writer();                                   // emits PROTO 2
  void global(const std::string& module, const std::string& name);
  void mark();
  void tuple();                               // TUPLE (from the last mark)
  void empty_tuple();
  void reduce();
  void setitems();                            // SETITEMS (from the last mark)
  void binpersid();
  void integer(int64_t v);
  void boolean(bool v);
  void string(const std::string& s);
  void stop();
  const std::string& bytes() const { return out_; }

 private:
  void op(uint8_t c) { out_.push_back(static_cast<char>(c)); }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

}  // namespace advad::pickle
