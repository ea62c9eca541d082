// TorchScript backend: output handling and validation, file errors, device/precision, runtime.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include "core/error.h"
#include "core/model.h"
#include "core/resize.h"
#include "test_support.h"

namespace advad {
namespace {

using test::TempDir;

// Saves a module whose forward is `body` (TorchScript, argument x) and returns a profile for it.
Profile module_profile(const TempDir& d, const std::string& name, const std::string& body) {
  torch::jit::Module m("M");
  m.define("def forward(self, x):\n    " + body + "\n");
  m.save(d.file(name));
  Profile p;
  p.method = "torchscript";
  p.model = d.file(name);
  return p;
}

ModelOptions cpu() {
  ModelOptions o;
  o.device = "cpu";
  o.threads = 2;
  return o;
}

void expect_model_error(const Profile& p, const std::vector<std::string>& pieces, const ModelOptions& o = cpu()) {
  try {
    auto m = create_torchscript_model(p, o);
    m->score(torch::rand({2, 3, 16, 16}), {{16, 16}, {16, 16}});
    FAIL() << "no ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    for (const auto& s : pieces) EXPECT_NE(msg.find(s), std::string::npos) << "'" << s << "' missing in: " << msg;
  }
}

TEST(TorchScriptModel, MapsAreResizedPerTileAndScoredByTheirMax) {
  TempDir d;
  // Native map: channel mean at half resolution, [B,1,8,8] for a 16x16 input.
  Profile p = module_profile(d, "half.pt", "return x.mean(1, True)[:, :, ::2, ::2]");
  auto model = create_torchscript_model(p, cpu());
  EXPECT_EQ(model->device(), torch::Device(torch::kCPU));
  EXPECT_NE(model->describe().find("half.pt"), std::string::npos);
  torch::manual_seed(1);
  torch::Tensor x = torch::rand({2, 3, 16, 16});
  ScoredBatch sb = model->score(x, {{30, 20}, {16, 16}});
  ASSERT_EQ(sb.maps.size(), 2u);
  ASSERT_EQ(sb.scores.size(), 2u);
  EXPECT_EQ(sb.maps[0].sizes(), (std::vector<int64_t>{20, 30}));
  EXPECT_EQ(sb.maps[1].sizes(), (std::vector<int64_t>{16, 16}));
  torch::Tensor native = x.mean(1)[0].slice(0, 0, 16, 2).slice(1, 0, 16, 2);
  EXPECT_TRUE(torch::allclose(sb.maps[0], resize_map_bilinear(native, 20, 30), 1e-6, 1e-6));
  EXPECT_FLOAT_EQ(sb.scores[0], sb.maps[0].max().item<float>());
  EXPECT_FLOAT_EQ(sb.scores[1], sb.maps[1].max().item<float>());
}

TEST(TorchScriptModel, AcceptsRank3MapsAndPackageFolders) {
  TempDir d;
  std::filesystem::create_directories(d.path() / "pkg");
  Profile p = module_profile(d, "pkg/model.pt", "return x.sum(1)");
  p.model = (d.path() / "pkg").string();  // folder holding model.pt
  auto model = create_torchscript_model(p, cpu());
  torch::Tensor x = torch::ones({3, 3, 5, 7});
  ScoredBatch sb = model->score(x, {{7, 5}, {7, 5}, {14, 10}});
  EXPECT_FLOAT_EQ(sb.maps[2].min().item<float>(), 3.f);
  EXPECT_FLOAT_EQ(sb.scores[1], 3.f);
}

TEST(TorchScriptModel, WrongOutputsAreModelErrorsNamingFileAndShapes) {
  TempDir d;
  expect_model_error(module_profile(d, "rank4.pt", "return x"), {"rank4.pt", "[2, 3, 16, 16]", "expected", "[2,1,h,w]"});
  expect_model_error(module_profile(d, "batch.pt", "return x[0:1].mean(1)"), {"batch.pt", "[1, 16, 16]", "[2,h,w]"});
  expect_model_error(module_profile(d, "int.pt", "return (x > 0).long().sum(1)"), {"int.pt", "long", "float"});
  expect_model_error(module_profile(d, "tuple.pt", "return (x, x)"), {"tuple.pt", "Tuple", "expected"});
  expect_model_error(module_profile(d, "rank2.pt", "return x.sum(1).sum(1)"), {"rank2.pt", "[2, 16]"});
  expect_model_error(module_profile(d, "raise.pt", "return x.view(7, -1)"), {"raise.pt", "failed on input", "is invalid for input"});
}

TEST(TorchScriptModel, MissingOrCorruptFileIsAModelErrorNamingIt) {
  TempDir d;
  Profile p;
  p.method = "torchscript";
  p.model = d.file("absent.pt");
  expect_model_error(p, {"absent.pt", "not found"});
  p.model = d.write("corrupt.pt", "this is not a zip archive");
  expect_model_error(p, {"corrupt.pt", "cannot be loaded"});
}

TEST(Runtime, DeviceAndPrecisionResolution) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_THROW(resolve_device("gpu"), ModelError);
  EXPECT_THROW(resolve_device("cuda:x"), ModelError);
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(resolve_device("auto"), torch::Device(torch::kCPU));
    try {
      resolve_device("cuda:0");
      FAIL();
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("device=cpu"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_TRUE(resolve_device("auto").is_cuda());
    EXPECT_THROW(resolve_device("cuda:999"), ModelError);
  }
  EXPECT_EQ(resolve_precision("fp32", torch::kCPU).dtype, torch::kFloat32);
  EXPECT_THROW(resolve_precision("fp16", torch::kCPU), ModelError);
  EXPECT_THROW(resolve_precision("int4", torch::kCPU), ModelError);
  EXPECT_EQ(resolve_precision("bf16", torch::kCPU).dtype, torch::kBFloat16);
}

TEST(Runtime, Bf16OnCpuRunsAndStaysCloseToFp32) {
  TempDir d;
  Profile p = module_profile(d, "m.pt", "return torch.avg_pool2d(x.mean(1, True), [3, 3], [1, 1], [1, 1])");
  ModelOptions o = cpu();
  torch::Tensor x = torch::rand({1, 3, 12, 12});
  float a = create_torchscript_model(p, o)->score(x, {{12, 12}}).scores[0];
  o.precision = "bf16";
  auto m = create_torchscript_model(p, o);
  ScoredBatch sb = m->score(x, {{12, 12}});
  EXPECT_EQ(sb.maps[0].scalar_type(), torch::kFloat32);  // maps always come back as float32
  EXPECT_NEAR(sb.scores[0], a, 0.02);
  o.precision = "fp16";
  expect_model_error(p, {"fp16", "CUDA"}, o);
}

TEST(Runtime, ConfigureRuntimeSetsThreadsAndFindsTheBlas) {
  configure_runtime(2);
  EXPECT_EQ(at::get_num_threads(), 2);
  configure_runtime(1);
  EXPECT_EQ(at::get_num_threads(), 1);
  configure_runtime(2);
  EXPECT_FALSE(blas_library_path().empty());
}

}  // namespace
}  // namespace advad
