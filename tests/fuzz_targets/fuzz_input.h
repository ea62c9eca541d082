// Helpers shared by the libFuzzer targets (issue 18): the readers under test
// take file paths, so each input is written to a per-process scratch file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace advad::fuzz {

// Writes data to <scratch>/<name> (replacing it) and returns the path. The
// scratch folder is made once per process and removed at exit.
std::string input_file(const uint8_t* data, size_t size, const std::string& name);

// A path in the scratch folder (not created).
std::string scratch_path(const std::string& name);

// Aborts with `what` on stderr: a broken invariant is a finding, like a crash.
[[noreturn]] void fail(const std::string& what);

}  // namespace advad::fuzz
