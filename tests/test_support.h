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
