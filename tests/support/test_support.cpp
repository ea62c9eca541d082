#include "test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

namespace fs = std::filesystem;

namespace advad::test {

std::string test_data(const std::string& rel) {
  const char* d = std::getenv("ADVAD_TEST_DATA");
  return std::string(d ? d : "tests/data") + "/" + rel;
}

std::string data_path(const std::string& area, const std::string& name) { return test_data(area + "/" + name); }

std::string shipped_profile(const std::string& category) {
  return test_data("../../models/mvtec_ad2/" + category + ".ini");
}

TempDir::TempDir(const std::string& tag) {
  std::string pattern = (fs::temp_directory_path() / ("advad_" + tag + "_XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) {
    ADD_FAILURE() << "cannot create a temp folder " << pattern;
    return;
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const { return (path_ / name).string(); }

std::string TempDir::write(const std::string& name, const std::string& text) const {
  std::ofstream(file(name)) << text;
  return file(name);
}

namespace {
// The per-process scratch folders, removed at exit (static destruction).
struct ScratchDirs {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<TempDir>> dirs;
};
ScratchDirs& scratch_dirs() {
  static ScratchDirs s;
  return s;
}
}  // namespace

fs::path test_tmp_dir(const std::string& tag) {
  auto& s = scratch_dirs();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto& d = s.dirs[tag];
  if (!d) d = std::make_unique<TempDir>(tag);
  fs::create_directories(d->path());
  return d->path();
}

std::string test_tmp(const std::string& tag, const std::string& name) { return (test_tmp_dir(tag) / name).string(); }

std::string ini_group_lines(std::vector<std::pair<std::string, std::string>> defaults, const std::string& overrides) {
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

std::string advad_bin() {
  const char* bin = std::getenv("ADVAD_BIN");
  EXPECT_NE(bin, nullptr) << "ADVAD_BIN is not set";
  return bin ? bin : "advad";
}

CliRun advad_cli(const std::string& args) {
  const std::string cmd = advad_bin() + " " + args + " 2>&1";
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
