#include "publish/topic.h"

#include "core/error.h"

namespace advad {

namespace {
[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw InputError("topic '" + text + "': " + why);
}

std::string clean_value(const std::string& v) {
  if (v.empty()) return "unknown";
  std::string out = v;
  for (char& c : out)
    if (c == '+' || c == '#' || c == '\0') c = '_';
  return out;
}
}  // namespace

TopicTemplate::TopicTemplate(const std::string& text) : text_(text) {
  if (text.empty()) bad(text, "is empty; e.g. advad/{source}");
  size_t i = 0;
  std::string literal;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '+' || c == '#') bad(text, std::string("holds the wildcard '") + c + "', which a published topic may not");
    if (c == '}') bad(text, "has a '}' without its '{'");
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    const size_t close = text.find('}', i);
    if (close == std::string::npos) bad(text, "has a '{' that is not closed");
    const std::string name = text.substr(i + 1, close - i - 1);
    Kind kind;
    if (name == "source") {
      kind = Kind::Source;
    } else if (name == "category") {
      kind = Kind::Category;
    } else {
      bad(text, "unknown placeholder {" + name + "}; known: {source}, {category}");
    }
    if (!literal.empty()) parts_.push_back({Kind::Literal, literal});
    literal.clear();
    parts_.push_back({kind, ""});
    i = close + 1;
  }
  if (!literal.empty()) parts_.push_back({Kind::Literal, literal});
}

std::string TopicTemplate::expand(const std::string& source, const std::string& category) const {
  std::string out;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Kind::Literal: out += p.literal; break;
      case Kind::Source: out += clean_value(source); break;
      case Kind::Category: out += clean_value(category); break;
    }
  }
  return out;
}

}  // namespace advad
