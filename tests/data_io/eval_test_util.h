// Helpers shared by the data_io, metrics and tools (test_eval_*) tests:
// a temp folder and the path of copied test data.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace advad::evaltest {

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("advad_eval_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// tests/data/<area>/<name> (ADVAD_TEST_DATA is set by meson's test_env).
inline std::string data_path(const std::string& area, const std::string& name) {
  const char* d = std::getenv("ADVAD_TEST_DATA");
  return std::string(d ? d : "tests/data") + "/" + area + "/" + name;
}

}  // namespace advad::evaltest
