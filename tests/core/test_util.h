// Helpers shared by the core tests: temp folders and test-data paths.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "../test_support.h"

namespace advad::test {

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("advad_core_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// tests/data/core/<name> (ADVAD_TEST_DATA is set by meson's test_env).
inline std::string data_path(const std::string& name) { return test_data("core/" + name); }

// models/mvtec_ad2/<name> in the source tree (tests/data/../../models).
inline std::string shipped_profile(const std::string& category) {
  return test_data("../../models/mvtec_ad2/" + category + ".ini");
}

}  // namespace advad::test
