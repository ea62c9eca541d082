// What a reproduce step is made from, as one short hash: its command, the
// text of small files (profiles), and size + modification time of everything
// else (weights, dataset folders, prediction folders). Equal fingerprints
// mean "nothing it depends on changed", so a second run can skip the step.
#pragma once
#include <cstdint>
#include <string>

namespace advad::reproduce {

class Fingerprint {
 public:
  // Any text that decides the result (a command line, a profile's content).
  void add_text(const std::string& label, const std::string& text);
  // A file: its size and modification time; a folder: every file below it
  // (relative path, size, modification time), in sorted order; a missing
  // path counts as "missing", so its later appearance changes the hash.
  void add_path(const std::string& path);
  // The content of a file (for small files whose time may change without
  // their content changing, like a rewritten profile).
  void add_file_content(const std::string& path);
  std::string hex() const;

 private:
  void mix(const std::string& bytes);
  uint64_t h_ = 1469598103934665603ull;  // FNV-1a 64 offset basis
};

}  // namespace advad::reproduce
