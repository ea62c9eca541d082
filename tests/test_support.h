// Helpers shared by the GoogleTest suites: fixture paths, scratch files,
// tensor differences and error-message checks.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>
#include <torch/types.h>

namespace advad::test {

// tests/data/<rel> (ADVAD_TEST_DATA is set by meson's test_env).
inline std::string test_data(const std::string& rel) {
  const char* d = std::getenv("ADVAD_TEST_DATA");
  return std::string(d ? d : "tests/data") + "/" + rel;
}

// A per-process scratch folder <tmp>/advad_<tag>_<pid>, created on first use.
inline std::filesystem::path test_tmp_dir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() / ("advad_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string test_tmp(const std::string& tag, const std::string& name) {
  return (test_tmp_dir(tag) / name).string();
}

// max |a - b| in double; a shape mismatch fails the test and returns 1e9.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e9;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// The "key = value" lines of a profile group: `defaults`, with the keys that
// `overrides` ("key = value" lines) gives replaced or added — a key given
// twice in a group is a profile error.
inline std::string ini_group_lines(std::vector<std::pair<std::string, std::string>> defaults,
                                   const std::string& overrides) {
  size_t start = 0;
  while (start < overrides.size()) {
    size_t end = overrides.find('\n', start);
    if (end == std::string::npos) end = overrides.size();
    const std::string line = overrides.substr(start, end - start);
    start = end + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    key.erase(key.find_last_not_of(" \t") + 1);
    key.erase(0, key.find_first_not_of(" \t"));
    value.erase(0, value.find_first_not_of(" \t"));
    bool replaced = false;
    for (auto& kv : defaults)
      if (kv.first == key) {
        kv.second = value;
        replaced = true;
      }
    if (!replaced) defaults.emplace_back(key, value);
  }
  std::string out;
  for (const auto& [key, value] : defaults) out += key + " = " + value + "\n";
  return out;
}

// f() must throw E whose message contains every fragment.
template <typename E, typename Fn>
void expect_error(Fn f, const std::vector<std::string>& frags) {
  try {
    f();
    FAIL() << "no error";
  } catch (const E& e) {
    for (auto& s : frags) EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << s << " not in " << e.what();
  }
}

// Runs the built `advad <args>` (ADVAD_BIN, or ADVAD_EXE, set by meson) and
// returns its exit code and stdout + stderr.
struct CliRun {
  int code = -1;
  std::string out;
};
inline CliRun advad_cli(const std::string& args) {
  const char* bin = std::getenv("ADVAD_BIN");
  if (!bin) bin = std::getenv("ADVAD_EXE");
  EXPECT_NE(bin, nullptr) << "ADVAD_BIN is not set";
  const std::string cmd = std::string(bin ? bin : "advad") + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace advad::test
