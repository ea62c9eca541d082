// MQTT topic templates: "advad/{source}/{category}". The placeholders are
// checked once (an unknown one is an error naming it) and filled per message.
#pragma once
#include <string>
#include <vector>

namespace advad {

class TopicTemplate {
 public:
  // Throws InputError naming the template and the fault: an unknown
  // placeholder (the known ones are {source} and {category}), an unclosed
  // '{', an empty template, or a wildcard ('+', '#') outside a placeholder.
  explicit TopicTemplate(const std::string& text);
  // The topic for one message. '+', '#' and NUL in a value become '_' (a
  // published topic may not hold wildcards); an empty value becomes "unknown".
  std::string expand(const std::string& source, const std::string& category) const;
  const std::string& text() const { return text_; }

 private:
  enum class Kind { Literal, Source, Category };
  struct Part {
    Kind kind;
    std::string literal;
  };
  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace advad
