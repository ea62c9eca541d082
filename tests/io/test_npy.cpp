// .npy reading/writing against files numpy wrote (the INP-Former fixture) and round trips.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "core/error.h"
#include "io/npy.h"

namespace fs = std::filesystem;
using namespace advad;

namespace {
std::string npy_data(const std::string& rel) { return test::test_data(rel); }
std::string npy_tmp(const std::string& name) { return test::test_tmp("npy_test", name); }
}  // namespace

TEST(Npy, ReadsNumpyFiles) {
  auto x = load_npy(npy_data("inpformer/input.npy"));
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{1, 3, 392, 392}));
  EXPECT_EQ(x.scalar_type(), torch::kFloat32);
  // A normalised image: finite, and within the range ImageNet normalisation allows.
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
  EXPECT_GE(x.min().item<float>(), -0.485f / 0.229f - 1e-4f);
  EXPECT_LE(x.max().item<float>(), (1 - 0.406f) / 0.225f + 1e-4f);
  auto s = load_npy(npy_data("inpformer/score.npy"));
  EXPECT_EQ(s.sizes(), (std::vector<int64_t>{1}));
}

TEST(Npy, RoundTripsDtypesAndShapes) {
  std::vector<torch::Tensor> ts = {
      torch::randn({2, 3, 4}), torch::randn({5}).to(torch::kFloat64), torch::randn({3, 1}).to(torch::kFloat16),
      torch::arange(6).reshape({2, 3}), torch::arange(4).to(torch::kInt32), torch::arange(7).to(torch::kUInt8),
      torch::arange(6).remainder(2).eq(0), torch::tensor(3.5f), torch::randn({4, 3}).t()};
  for (size_t i = 0; i < ts.size(); ++i) {
    std::string p = npy_tmp("t" + std::to_string(i) + ".npy");
    save_npy(ts[i], p);
    auto back = load_npy(p);
    EXPECT_EQ(back.scalar_type(), ts[i].scalar_type()) << i;
    EXPECT_TRUE(back.equal(ts[i])) << i;
    EXPECT_EQ(fs::file_size(p) % 64, ts[i].nbytes() % 64) << "header padded to 64 bytes";
  }
}

TEST(Npy, BadFilesGiveClearErrors) {
  std::string p = npy_tmp("bad.npy");
  std::ofstream(p) << "not numpy";
  EXPECT_THROW(load_npy(p), InputError);
  try {
    load_npy(npy_tmp("missing.npy"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.npy"), std::string::npos);
  }
  // Truncated data.
  std::ifstream in(npy_data("inpformer/fused.npy"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string q = npy_tmp("short.npy");
  std::ofstream(q, std::ios::binary).write(bytes.data(), bytes.size() - 100);
  try {
    load_npy(q);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}
