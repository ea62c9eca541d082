// JsonLinesWriter: where advadoverlay's (and `advad run`'s) JSON lines go. A
// line is written and flushed at once, so a crash loses at most the line
// being written; a restart appends by default, so a night of results
// survives it; optional size-based rotation keeps the newest files
// (path, path.1, path.2, ...). Every failure — a missing folder, no
// permission, a full disk — throws InputError naming the path.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace advad {

class JsonLinesWriter {
 public:
  enum class Mode { Append, Overwrite };
  struct Options {
    Mode mode = Mode::Append;
    std::uint64_t max_bytes = 0;  // rotate before a line would take the file past this; 0 = never
    unsigned max_files = 5;       // files kept when rotating, the current one included (>= 1)
  };

  // "-" writes to stdout (no rotation).
  JsonLinesWriter(std::string path, Options options);
  ~JsonLinesWriter();
  JsonLinesWriter(const JsonLinesWriter&) = delete;
  JsonLinesWriter& operator=(const JsonLinesWriter&) = delete;

  void write(const std::string& line);  // adds the newline
  void sync();                          // flush to the disk (fsync)
  const std::string& path() const { return path_; }
  std::uint64_t bytes() const { return bytes_; }  // in the current file

 private:
  void open(Mode mode);
  void rotate();
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;
  Options options_;
  FILE* file_ = nullptr;
  bool stdout_ = false;
  std::uint64_t bytes_ = 0;
};

// An id for one run of a pipeline: UTC start time and random bits, e.g.
// "20261205T131455Z-3fa9c2"; (run, frame) is unique across restarts.
std::string new_run_id();

}  // namespace advad
