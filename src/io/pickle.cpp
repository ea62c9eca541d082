// Unpickler / pickler for torch state dicts. Opcode values and semantics follow
// the Python pickle protocol documentation (pickletools).
#include "io/pickle.h"

#include <cstring>
#include <sstream>
#include <unordered_map>

#include "core/error.h"

namespace advad::pickle {

const char* Value::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "class/function";
    case Kind::Tensor: return "tensor";
    case Kind::Object: return "object";
  }
  return "?";
}

namespace {

enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K',
  BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}',
  APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', BINPUT = 'q',
  LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
  BINBYTES = 'B', SHORT_BINBYTES = 'C', PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86,
  TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

// Names of opcodes we do not support, for the error message.
const char* opcode_name(uint8_t c) {
  switch (c) {
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'L': return "LONG";
    case 'P': return "PERSID";
    case 'S': return "STRING";
    case 'V': return "UNICODE";
    case 'g': return "GET";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x8b: return "LONG4";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return "unknown";
  }
}

class Reader {
 public:
  Reader(const char* d, size_t n, const Hooks& h) : p_(d), n_(n), hooks_(h) {}

  ValuePtr run() {
    while (true) {
      size_t at = pos_;
      uint8_t c = u8();
      switch (c) {
        case PROTO: u8(); break;
        case FRAME: take(8); break;
        case STOP:
          if (stack_.size() != 1) fail(at, "STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        case MARK: marks_.push_back(stack_.size()); break;
        case POP: pop(at); break;
        case POP_MARK: items_since_mark(at); break;
        case DUP: push(top(at)); break;
        case NONE: push(Value::make(Value::Kind::None)); break;
        case NEWTRUE:
        case NEWFALSE: {
          auto v = Value::make(Value::Kind::Bool);
          v->b = c == NEWTRUE;
          push(v);
          break;
        }
        case BININT: {
          int32_t x;
          std::memcpy(&x, take(4), 4);
          push(Value::integer(x));
          break;
        }
        case BININT1: push(Value::integer(u8())); break;
        case BININT2: {
          uint16_t x;
          std::memcpy(&x, take(2), 2);
          push(Value::integer(x));
          break;
        }
        case LONG1: {
          size_t len = u8();
          if (len > 8) fail(at, "LONG1 integer of " + std::to_string(len) + " bytes is too large");
          const auto* b = reinterpret_cast<const uint8_t*>(take(len));
          uint64_t x = 0;
          for (size_t k = 0; k < len; ++k) x |= static_cast<uint64_t>(b[k]) << (8 * k);
          if (len > 0 && len < 8 && (b[len - 1] & 0x80)) x |= ~uint64_t(0) << (8 * len);  // sign-extend
          push(Value::integer(static_cast<int64_t>(x)));
          break;
        }
        case BINFLOAT: {
          const auto* b = reinterpret_cast<const uint8_t*>(take(8));
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | b[k];  // big-endian
          auto v = Value::make(Value::Kind::Float);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case SHORT_BINSTRING:
        case SHORT_BINUNICODE:
        case SHORT_BINBYTES: {
          size_t len = u8();
          push(Value::str(std::string(take(len), len)));
          break;
        }
        case BINSTRING:
        case BINUNICODE:
        case BINBYTES: {
          uint32_t len;
          std::memcpy(&len, take(4), 4);
          push(Value::str(std::string(take(len), len)));
          break;
        }
        case BINUNICODE8: {
          uint64_t len;
          std::memcpy(&len, take(8), 8);
          push(Value::str(std::string(take(len), len)));
          break;
        }
        case EMPTY_TUPLE: push(Value::make(Value::Kind::Tuple)); break;
        case EMPTY_LIST: push(Value::make(Value::Kind::List)); break;
        case EMPTY_DICT: push(Value::make(Value::Kind::Dict)); break;
        case TUPLE1:
        case TUPLE2:
        case TUPLE3: {
          size_t k = c - TUPLE1 + 1;
          if (stack_.size() < k) fail(at, "tuple of " + std::to_string(k) + " on a shorter stack");
          auto t = Value::make(Value::Kind::Tuple);
          t->items.assign(stack_.end() - k, stack_.end());
          stack_.resize(stack_.size() - k);
          push(t);
          break;
        }
        case TUPLE:
        case LIST: {
          auto t = Value::make(c == TUPLE ? Value::Kind::Tuple : Value::Kind::List);
          t->items = items_since_mark(at);
          push(t);
          break;
        }
        case DICT: {
          auto d = Value::make(Value::Kind::Dict);
          set_items(at, d, items_since_mark(at));
          push(d);
          break;
        }
        case APPEND: {
          auto v = pop(at);
          auto l = top(at);
          if (l->kind != Value::Kind::List) fail(at, std::string("APPEND to a ") + l->kind_name());
          l->items.push_back(v);
          break;
        }
        case APPENDS: {
          auto vs = items_since_mark(at);
          auto l = top(at);
          if (l->kind != Value::Kind::List) fail(at, std::string("APPENDS to a ") + l->kind_name());
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case SETITEM: {
          auto v = pop(at);
          auto k = pop(at);
          set_items(at, top(at), {k, v});
          break;
        }
        case SETITEMS: {
          auto kv = items_since_mark(at);
          set_items(at, top(at), kv);
          break;
        }
        case BINPUT: memo_put(u8(), top(at)); break;
        case LONG_BINPUT: {
          uint32_t idx;
          std::memcpy(&idx, take(4), 4);
          memo_put(idx, top(at));
          break;
        }
        case MEMOIZE: memo_put(memo_.size(), top(at)); break;
        case BINGET: push(memo_get(at, u8())); break;
        case LONG_BINGET: {
          uint32_t idx;
          std::memcpy(&idx, take(4), 4);
          push(memo_get(at, idx));
          break;
        }
        case GLOBAL: {
          std::string module = line(at), name = line(at);
          push(hooks_.find_class(module, name));
          break;
        }
        case STACK_GLOBAL: {
          auto name = pop(at), module = pop(at);
          if (name->kind != Value::Kind::String || module->kind != Value::Kind::String)
            fail(at, "STACK_GLOBAL needs two strings");
          push(hooks_.find_class(module->s, name->s));
          break;
        }
        case REDUCE:
        case NEWOBJ: {
          auto args = pop(at);
          auto fn = pop(at);
          if (args->kind != Value::Kind::Tuple) fail(at, "REDUCE arguments are not a tuple");
          push(hooks_.call(fn, args));
          break;
        }
        case BUILD: {
          auto state = pop(at);
          auto obj = pop(at);
          push(hooks_.build(obj, state));
          break;
        }
        case BINPERSID: push(hooks_.persistent_load(pop(at))); break;
        default: {
          std::ostringstream m;
          m << "unsupported pickle opcode 0x" << std::hex << int(c) << std::dec << " (" << opcode_name(c)
            << ")";
          fail(at, m.str());
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw ModelError("data.pkl: " + what + " at byte " + std::to_string(at));
  }
  const char* take(size_t k) {
    if (k > n_ - pos_) fail(pos_, "pickle ends early (truncated data.pkl)");
    const char* r = p_ + pos_;
    pos_ += k;
    return r;
  }
  uint8_t u8() { return static_cast<uint8_t>(*take(1)); }
  std::string line(size_t at) {
    const void* nl = std::memchr(p_ + pos_, '\n', n_ - pos_);
    if (!nl) fail(at, "GLOBAL name without newline (truncated data.pkl)");
    size_t len = static_cast<const char*>(nl) - (p_ + pos_);
    std::string s(p_ + pos_, len);
    pos_ += len + 1;
    return s;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr top(size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail(at, "stack underflow");
    return stack_.back();
  }
  ValuePtr pop(size_t at) {
    auto v = top(at);
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> items_since_mark(size_t at) {
    if (marks_.empty()) fail(at, "no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> r(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return r;
  }
  void set_items(size_t at, const ValuePtr& d, const std::vector<ValuePtr>& kv) {
    if (d->kind != Value::Kind::Dict) fail(at, std::string("SETITEM(S) on a ") + d->kind_name());
    if (kv.size() % 2) fail(at, "SETITEMS with an odd number of values");
    for (size_t k = 0; k < kv.size(); k += 2) d->entries.emplace_back(kv[k], kv[k + 1]);
  }
  // The memo is keyed like Python's (a dict): a corrupt LONG_BINPUT index
  // such as 0xFFFFFFF0 must not size a table by it (found by fuzzing).
  void memo_put(size_t idx, ValuePtr v) { memo_[idx] = std::move(v); }
  ValuePtr memo_get(size_t at, size_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end() || !it->second) fail(at, "memo entry " + std::to_string(idx) + " undefined");
    return it->second;
  }

  const char* p_;
  size_t n_;
  size_t pos_ = 0;
  const Hooks& hooks_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<size_t, ValuePtr> memo_;
};

}  // namespace

ValuePtr unpickle(const char* data, size_t size, const Hooks& hooks) {
  return Reader(data, size, hooks).run();
}

// ---- writer ---------------------------------------------------------------

Writer::Writer() {
  op(PROTO);
  op(2);
}
void Writer::global(const std::string& module, const std::string& name) {
  op(GLOBAL);
  out_ += module + "\n" + name + "\n";
}
void Writer::mark() { op(MARK); }
void Writer::tuple() { op(TUPLE); }
void Writer::empty_tuple() { op(EMPTY_TUPLE); }
void Writer::reduce() { op(REDUCE); }
void Writer::setitems() { op(SETITEMS); }
void Writer::binpersid() { op(BINPERSID); }
void Writer::boolean(bool v) { op(v ? NEWTRUE : NEWFALSE); }
void Writer::integer(int64_t v) {
  if (v >= 0 && v < 256) {
    op(BININT1);
    op(static_cast<uint8_t>(v));
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    op(BININT);
    int32_t x = static_cast<int32_t>(v);
    raw(&x, 4);
  } else {
    op(LONG1);
    op(8);
    raw(&v, 8);  // little-endian two's complement
  }
}
void Writer::string(const std::string& s) {
  op(BINUNICODE);
  uint32_t n = static_cast<uint32_t>(s.size());
  raw(&n, 4);
  out_ += s;
}
void Writer::stop() { op(STOP); }

}  // namespace advad::pickle
