// The shared world of the advad CLI tests on generated miniature datasets:
// a dataset in both layouts (MVTec AD 2 "mini", MVTec AD "tex") and a demo
// TorchScript package, made once per test program.
#pragma once
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/demo_model.h"
#include "data/mini_dataset.h"
#include "test_support.h"

using namespace advad;
namespace fs = std::filesystem;

namespace {

using advad::test::advad_cli;
using advad::test::CliRun;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// One shared world for the whole file: a dataset in both layouts and a demo model.
class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new test::TempDir();
    MiniDatasetSpec s;
    s.category = "mini";
    s.n_train = 2;
    s.n_validation = 3;
    s.n_test_good = 3;
    s.n_test_bad = 4;
    s.n_private = 3;
    s.width = 96;
    s.height = 64;
    write_mini_dataset(data().string(), s);
    write_mini_dataset(data().string(), DatasetLayout::MvtecAD, "tex", 2, 2, 4, 80, 64, 3);
    DemoOptions o;
    o.levels = {GridLevel{1, 1}};
    o.input_size = 128;
    o.window = 15;
    o.min_area = 4;
    profile_ = write_demo_package((tmp_->path() / "model").string(), o);
  }
  static void TearDownTestSuite() { delete tmp_; }
  static fs::path data() { return tmp_->path() / "data"; }
  static fs::path dir(const std::string& name) { return tmp_->path() / name; }
  inline static test::TempDir* tmp_ = nullptr;
  inline static std::string profile_;
};

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

}  // namespace

