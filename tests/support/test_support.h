// The helpers shared by the GoogleTest suites (library advad_test_support,
// tests/support/): test-data paths, scratch folders that remove themselves,
// profile-group text, error-message checks and the advad command-line runner.
// Tensor comparisons are in tensor_checks.h, the AU-PRO check of a trained
// package in aupro_check.h, the CPR network fixture in cpr_fixture.h.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace advad::test {

// tests/data/<rel> (ADVAD_TEST_DATA is set by meson's test environment).
std::string test_data(const std::string& rel);
// tests/data/<area>/<name>.
std::string data_path(const std::string& area, const std::string& name);
// models/mvtec_ad2/<category>.ini in the source tree (tests/data/../../models).
std::string shipped_profile(const std::string& category);

// A fresh folder <tmp>/advad_<tag>_XXXXXX, removed with everything in it when
// the object dies (also when the test that made it fails).
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // <dir>/<name> (not created).
  std::string file(const std::string& name) const;
  // Writes `text` to <dir>/<name>; returns its path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// A per-process scratch folder for `tag`: the same folder for every call in a
// process, (re)created on each call, removed when the process exits.
std::filesystem::path test_tmp_dir(const std::string& tag);
// test_tmp_dir(tag) / name.
std::string test_tmp(const std::string& tag, const std::string& name);

// The "key = value" lines of a profile group: `defaults`, with the keys that
// `overrides` ("key = value" lines) gives replaced or added — a key given
// twice in a group is a profile error.
std::string ini_group_lines(std::vector<std::pair<std::string, std::string>> defaults, const std::string& overrides);

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

// The built advad executable: ADVAD_BIN, set by meson for the tests that run it.
// A test fails when it is not set.
std::string advad_bin();

// Runs `advad <args>` (a shell command line) and returns its exit code (-1
// when it did not exit normally) and stdout + stderr.
struct CliRun {
  int code = -1;
  std::string out;
};
CliRun advad_cli(const std::string& args);

}  // namespace advad::test
