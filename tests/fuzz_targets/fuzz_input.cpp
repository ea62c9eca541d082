#include "fuzz_input.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace advad::fuzz {

namespace {

// Made on first use; the destructor runs at normal exit (libFuzzer's -runs /
// -max_total_time end with exit()).
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/advad_fuzz_XXXXXX";
    if (!mkdtemp(templ.data())) fail("cannot make a scratch folder in " + templ);
    dir = templ;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

}  // namespace

std::string scratch_path(const std::string& name) { return (scratch().dir / name).string(); }

std::string input_file(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = scratch_path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) fail("cannot write " + path);
  return path;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "advad fuzz target: %s\n", what.c_str());
  std::abort();
}

}  // namespace advad::fuzz
