// State dict reader/writer: real torch.save files (see tests/data/io/README.md
// and tests/data/inpformer/README.md) and generated bad files.
#include <gtest/gtest.h>

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "core/error.h"
#include "io/state_dict.h"

namespace fs = std::filesystem;
using namespace advad;

namespace {

std::string data(const std::string& rel) { return test::test_data(rel); }
std::string tmp(const std::string& name) { return test::test_tmp("io_test", name); }

// Expect a ModelError whose message contains every fragment.
template <typename F>
void expect_model_error(F f, std::vector<std::string> fragments) {
  try {
    f();
    FAIL() << "no error thrown";
  } catch (const ModelError& e) {
    std::string m = e.what();
    for (auto& frag : fragments) EXPECT_NE(m.find(frag), std::string::npos) << "'" << frag << "' not in: " << m;
  }
}

// Copy a zip archive's records, optionally replacing or dropping some.
void rewrite_zip(const std::string& src, const std::string& dst, const std::string& drop,
                 const std::string& replace_name = "", const std::string& replace_bytes = "") {
  caffe2::serialize::PyTorchStreamReader r(src);
  caffe2::serialize::PyTorchStreamWriter w(dst);
  for (auto& name : r.getAllRecords()) {
    if (name == drop || name == "version") continue;
    if (name == replace_name) {
      w.writeRecord(name, replace_bytes.data(), replace_bytes.size());
      continue;
    }
    auto [ptr, n] = r.getRecord(name);
    w.writeRecord(name, ptr.get(), n);
  }
  w.writeEndOfFile();
}

void check_mixed(const StateDict& sd) {
  std::vector<std::string> order = {"f32", "f64", "f16", "bf16", "i64", "i32", "u8", "bool",
                                    "transposed", "shared_base", "shared_slice", "param", "scalar"};
  EXPECT_EQ(sd.keys, order);
  auto base = torch::arange(12).reshape({3, 4});
  EXPECT_TRUE(sd.at("f32").equal(base.to(torch::kFloat32)));
  EXPECT_TRUE(sd.at("f64").equal(base.to(torch::kFloat64)));
  EXPECT_TRUE(sd.at("f16").equal(base.to(torch::kFloat16)));
  EXPECT_TRUE(sd.at("bf16").equal(base.to(torch::kBFloat16)));
  EXPECT_TRUE(sd.at("i64").equal(base.to(torch::kInt64)));
  EXPECT_TRUE(sd.at("i32").equal(base.to(torch::kInt32)));
  EXPECT_TRUE(sd.at("u8").equal(base.to(torch::kUInt8)));
  EXPECT_TRUE(sd.at("bool").equal(base.remainder(2).eq(0)));
  EXPECT_TRUE(sd.at("transposed").equal(base.to(torch::kFloat32).t()));
  EXPECT_FALSE(sd.at("transposed").is_contiguous());
  auto shared = torch::arange(20).to(torch::kFloat32);
  EXPECT_TRUE(sd.at("shared_base").equal(shared));
  EXPECT_TRUE(sd.at("shared_slice").equal(shared.slice(0, 5, 15).view({2, 5})));
  EXPECT_EQ(sd.at("shared_slice").storage_offset(), 5);
  EXPECT_TRUE(sd.at("param").equal(torch::arange(6).to(torch::kFloat32)));
  EXPECT_EQ(sd.at("scalar").dim(), 0);
  EXPECT_EQ(sd.at("scalar").item<int64_t>(), 7);
}

}  // namespace

TEST(StateDict, ReadsAllDtypesStridesAndOffsets) { check_mixed(load_state_dict(data("io/mixed_dtypes.pth"))); }

TEST(StateDict, ReadsPickleProtocol4) { check_mixed(load_state_dict(data("io/mixed_dtypes_p4.pth"))); }

TEST(StateDict, OfficialOrderedDictAndCudaTaggedCopyAgree) {
  auto cpu = load_state_dict(data("inpformer/model.pth"));
  auto cuda = load_state_dict(data("inpformer/model_cuda.pth"));
  ASSERT_EQ(cpu.keys.size(), 315u);  // 1 + 6 + 12*14 + 2 + 4 + 14 + 8*15, see the fixture README
  EXPECT_EQ(cpu.keys.front(), "prototype_token");
  EXPECT_EQ(cpu.keys[1], "encoder.cls_token");
  EXPECT_EQ(cpu.keys.back(), "decoder.7.mlp.fc2.bias");
  EXPECT_EQ(cpu.at("encoder.pos_embed").sizes(), (std::vector<int64_t>{1, 1370, 48}));
  EXPECT_EQ(cpu.keys, cuda.keys);
  for (auto& k : cpu.keys) {
    EXPECT_EQ(cpu.at(k).scalar_type(), torch::kFloat32) << k;
    EXPECT_TRUE(cpu.at(k).device().is_cpu()) << k;
    EXPECT_TRUE(cpu.at(k).equal(cuda.at(k))) << k;
  }
}

TEST(StateDict, ReadsCprCheckpointWithIntegerBuffers) {
  std::string p = data("cpr/model.pth");
  ASSERT_TRUE(fs::exists(p)) << p << " missing (copied from /work/shared/fixtures/cpr/tiny)";
  auto sd = load_state_dict(p);
  EXPECT_EQ(sd.keys.size(), 306u);
  int n_counters = 0;
  for (auto& k : sd.keys) {
    if (k.size() > 20 && k.substr(k.size() - 19) == "num_batches_tracked") {
      ++n_counters;
      EXPECT_EQ(sd.at(k).scalar_type(), torch::kInt64) << k;
      EXPECT_EQ(sd.at(k).dim(), 0) << k;
    } else {
      EXPECT_EQ(sd.at(k).scalar_type(), torch::kFloat32) << k;
      EXPECT_TRUE(torch::isfinite(sd.at(k)).all().item<bool>()) << k;
    }
  }
  EXPECT_GT(n_counters, 0);
}

TEST(StateDict, SaveThenLoadRoundTrips) {
  auto sd = load_state_dict(data("io/mixed_dtypes.pth"));
  std::string p = tmp("roundtrip.pth");
  save_state_dict(sd, p);
  auto back = load_state_dict(p);
  EXPECT_EQ(back.keys, sd.keys);
  for (auto& k : sd.keys) {
    EXPECT_EQ(back.at(k).scalar_type(), sd.at(k).scalar_type()) << k;
    EXPECT_TRUE(back.at(k).equal(sd.at(k))) << k;
  }
}

TEST(StateDict, StripPrefixKeepsOrder) {
  auto sd = load_state_dict(data("inpformer/model.pth"));
  auto enc = strip_prefix(sd, "encoder.");
  ASSERT_FALSE(enc.keys.empty());
  EXPECT_EQ(enc.keys.front(), "cls_token");
  EXPECT_TRUE(enc.at("pos_embed").equal(sd.at("encoder.pos_embed")));
  for (auto& k : enc.keys) EXPECT_TRUE(sd.has("encoder." + k));
}

TEST(StateDict, LoadIntoChecksKeysAndShapes) {
  torch::nn::Sequential net(torch::nn::Linear(3, 2), torch::nn::BatchNorm1d(2));
  StateDict sd;
  sd.source = "mem.pth";
  for (auto& p : net->named_parameters()) {
    sd.keys.push_back(p.key());
    sd.tensors[p.key()] = torch::full_like(p.value(), 0.5);
  }
  for (auto& b : net->named_buffers()) {
    sd.keys.push_back(b.key());
    sd.tensors[b.key()] = b.key().find("num_batches") != std::string::npos ? torch::full_like(b.value(), 9)
                                                                             : torch::full_like(b.value(), 0.5);
  }
  load_into(*net, sd);
  for (auto& p : net->named_parameters()) EXPECT_TRUE(p.value().eq(0.5).all().item<bool>()) << p.key();
  EXPECT_EQ(net->named_buffers()["1.num_batches_tracked"].item<int64_t>(), 9);

  StateDict wrong = sd;
  wrong.tensors["0.weight"] = torch::zeros({2, 4});
  expect_model_error([&] { load_into(*net, wrong); }, {"mem.pth", "'0.weight'", "[2, 4]", "[2, 3]"});

  StateDict missing = sd;
  missing.tensors.erase("0.bias");
  missing.keys.erase(std::find(missing.keys.begin(), missing.keys.end(), "0.bias"));
  expect_model_error([&] { load_into(*net, missing); }, {"mem.pth", "missing", "'0.bias'"});
  auto rep = load_into(*net, missing, /*allow_missing=*/true);
  EXPECT_EQ(rep.missing, std::vector<std::string>{"0.bias"});

  StateDict extra = sd;
  extra.keys.push_back("head.weight");
  extra.tensors["head.weight"] = torch::zeros({1});
  expect_model_error([&] { load_into(*net, extra); }, {"unexpected", "'head.weight'"});
  rep = load_into(*net, extra, false, /*allow_unexpected=*/true);
  EXPECT_EQ(rep.unexpected, std::vector<std::string>{"head.weight"});
}

TEST(StateDictErrors, MissingFile) {
  expect_model_error([] { load_state_dict(tmp("does_not_exist.pth")); }, {"does_not_exist.pth", "cannot open"});
}

TEST(StateDictErrors, LegacyFormatIsNamed) {
  expect_model_error([] { load_state_dict(data("io/legacy.pth")); }, {"legacy.pth", "legacy", "re-save"});
}

TEST(StateDictErrors, NotAZip) {
  std::string p = tmp("text.pth");
  std::ofstream(p) << "hello, I am not a checkpoint\n";
  expect_model_error([&] { load_state_dict(p); }, {"text.pth", "not a torch checkpoint"});
}

TEST(StateDictErrors, TruncatedFile) {
  std::ifstream in(data("inpformer/model.pth"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string p = tmp("truncated.pth");
  std::ofstream(p, std::ios::binary).write(bytes.data(), bytes.size() / 2);
  expect_model_error([&] { load_state_dict(p); }, {"truncated.pth", "truncated or corrupt"});
}

TEST(StateDictErrors, NoDataPkl) {
  std::string p = tmp("nopkl.pth");
  rewrite_zip(data("io/mixed_dtypes.pth"), p, "data.pkl");
  expect_model_error([&] { load_state_dict(p); }, {"nopkl.pth", "no data.pkl"});
}

TEST(StateDictErrors, MissingStorage) {
  std::string p = tmp("nostorage.pth");
  rewrite_zip(data("io/mixed_dtypes.pth"), p, "data/3");
  expect_model_error([&] { load_state_dict(p); }, {"nostorage.pth", "'data/3'", "missing"});
}

TEST(StateDictErrors, UnsupportedOpcodeIsNamed) {
  std::string p = tmp("opcode.pth");
  rewrite_zip(data("io/mixed_dtypes.pth"), p, "", "data.pkl", std::string("\x80\x02\x8f.", 4));  // EMPTY_SET
  expect_model_error([&] { load_state_dict(p); }, {"opcode.pth", "0x8f", "EMPTY_SET"});
}

TEST(StateDictErrors, TruncatedPickle) {
  std::string p = tmp("shortpkl.pth");
  caffe2::serialize::PyTorchStreamReader r(data("io/mixed_dtypes.pth"));
  auto [pkl, n] = r.getRecord("data.pkl");
  rewrite_zip(data("io/mixed_dtypes.pth"), p, "", "data.pkl", std::string(static_cast<char*>(pkl.get()), n / 2));
  expect_model_error([&] { load_state_dict(p); }, {"shortpkl.pth", "truncated"});
}

TEST(StateDictErrors, UnsupportedGlobalIsNamed) {
  expect_model_error([] { load_state_dict(data("io/module_object.pth")); },
                     {"module_object.pth", "torch.nn.modules.activation.ReLU"});
}

TEST(StateDictErrors, NotADictOrNotTensors) {
  expect_model_error([] { load_state_dict(data("io/list.pth")); }, {"list.pth", "list", "not a state dict"});
  expect_model_error([] { load_state_dict(data("io/nested.pth")); }, {"nested.pth", "'model'", "not a tensor"});
}
