// The CPR network against the official fixture's feature crops, weight
// loading (official checkpoint with / without backbone keys, torchvision
// backbone file, bad files), and the package backend create_cpr_model with
// its error paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/model.h"
#include "cpr/model/model.h"
#include "cpr/model/weights.h"
#include "cpr_fixture.h"

using namespace advad;
using namespace advad::cpr;
using cprtest::fixture;
using cprtest::max_abs_diff;
using cprtest::npy;
namespace fs = std::filesystem;

namespace {

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

std::string temp_dir(const std::string& name) {
  auto d = advad::test::test_tmp_dir("cprm") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

CprNetworkImpl& mutable_net() { return const_cast<CprNetworkImpl&>(*fixture().net); }

// A package folder (weights.pth + bank.bin) built from the fixture, once.
const std::string& package_dir() {
  static const std::string dir = [] {
    const auto d = temp_dir("pkg");
    save_state_dict(official_state_dict(mutable_net()), d + "/" + kWeightsFile);
    const auto& f = fixture();
    assemble_bank(f.train, npy("tiny/grb_codebook.npy"), npy("tiny-object/feb_weight.npy"),
                  npy("tiny-object/feb_bias.npy"), f.train_names)
        .save(d + "/" + kBankFile);
    return d;
  }();
  return dir;
}

Profile package_profile(const std::string& dir, bool object) {
  Profile p;
  p.path = dir + "/profile.ini";
  p.method = "cpr";
  p.model = dir;
  p.input.width = p.input.height = 320;
  p.input.resize = ResizeFilter::Linear;
  p.method_groups["cpr"] = {{"k", "3"}, {"blur", "on"}, {"foreground", object ? "on" : "off"}};
  return p;
}

int64_t count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

StateDict drop_keys(const StateDict& sd, const std::string& prefix) {
  StateDict out;
  out.source = sd.source;
  for (const auto& k : sd.keys)
    if (k.rfind(prefix, 0) != 0) {
      out.keys.push_back(k);
      out.tensors[k] = sd.tensors.at(k);
    }
  return out;
}

}  // namespace

// ---- network ---------------------------------------------------------------

TEST(CprNetwork, ArchitectureSizes) {
  CprNetwork net;
  EXPECT_EQ(count(*net->backbone()), 1297536);  // pruned DenseNet201 (reference: run)
  EXPECT_EQ(count(*net->lrb()), 494656);        // two LRB heads
  auto sd = official_state_dict(*net);
  EXPECT_EQ(sd.keys.size(), 306u);  // 78 lrb + 228 backbone, as the official state_dict
}

TEST(CprNetwork, TapsAndHeadsMatchOfficialCrops) {
  const auto& q = fixture().query;
  ASSERT_EQ(q.taps[0].sizes(), (std::vector<int64_t>{1, 256, 80, 80}));
  ASSERT_EQ(q.taps[1].sizes(), (std::vector<int64_t>{1, 512, 40, 40}));
  ASSERT_EQ(q.heads[0].sizes(), (std::vector<int64_t>{1, 384, 80, 80}));
  ASSERT_EQ(q.heads[1].sizes(), (std::vector<int64_t>{1, 384, 40, 40}));
  auto crop = [](const torch::Tensor& t, int64_t at) { return t[0].narrow(1, at, 8).narrow(2, at, 8); };
  const struct {
    const torch::Tensor& t;
    const char* file;
    int64_t far;
  } cases[] = {{q.taps[0], "tiny/query_backbone0_crops.npy", 72},
               {q.taps[1], "tiny/query_backbone1_crops.npy", 32},
               {q.heads[0], "tiny/query_lrb0_crops.npy", 72},
               {q.heads[1], "tiny/query_lrb1_crops.npy", 32}};
  for (const auto& c : cases) {
    auto ref = npy(c.file);
    const double scale = std::max(1.0, ref.abs().max().item<double>());
    EXPECT_LE(max_abs_diff(crop(c.t, 0), ref[0]), 1e-5 * scale) << c.file;
    EXPECT_LE(max_abs_diff(crop(c.t, c.far), ref[1]), 1e-5 * scale) << c.file;
  }
}

TEST(CprWeights, BackboneFromTorchvisionFileWhenCheckpointHasNone) {
  const auto dir = temp_dir("tv");
  auto full = official_state_dict(mutable_net());
  // Heads-only checkpoint + a torchvision-style backbone file with the old
  // "norm.1" names and the layers the truncated trunk does not have.
  auto heads_only = drop_keys(full, kOfficialBackbonePrefix);
  heads_only.source = dir + "/heads.pth";
  StateDict tv;
  for (const auto& k : full.keys)
    if (k.rfind(kOfficialBackbonePrefix, 0) == 0) {
      std::string nk = k.substr(kOfficialBackbonePrefix.size());
      for (const char* part : {"norm", "conv"})
        for (const char* idx : {"1", "2"}) {
          const std::string from = std::string(".") + part + idx + ".", to = std::string(".") + part + "." + idx + ".";
          if (nk.find("denselayer") != std::string::npos && nk.find(from) != std::string::npos)
            nk.replace(nk.find(from), from.size(), to);
        }
      if (nk.find("num_batches_tracked") != std::string::npos) continue;  // old files lack them
      tv.keys.push_back(nk);
      tv.tensors[nk] = full.tensors.at(k);
    }
  EXPECT_TRUE(tv.has("features.denseblock1.denselayer1.norm.1.weight"));
  tv.keys.push_back("features.denseblock3.denselayer1.conv.1.weight");
  tv.tensors[tv.keys.back()] = torch::zeros({128, 256, 1, 1});
  tv.keys.push_back("classifier.weight");
  tv.tensors[tv.keys.back()] = torch::zeros({1000, 1920});
  save_state_dict(tv, dir + "/densenet201.pth");

  CprNetwork net;
  auto info = load_cpr_weights(*net, heads_only, dir + "/densenet201.pth");
  EXPECT_FALSE(info.backbone_from_checkpoint);
  net->eval();
  torch::NoGradGuard ng;
  auto out = net->forward(fixture().query_image.unsqueeze(0));
  EXPECT_LE(max_abs_diff(out.heads[0], fixture().query.heads[0]), 1e-5);

  // Without a backbone file the error says which setting to use.
  CprNetwork net2;
  auto msg = error_of<ModelError>([&] { load_cpr_weights(*net2, heads_only, ""); });
  EXPECT_NE(msg.find("heads.pth"), std::string::npos) << msg;
  EXPECT_NE(msg.find("backbone_weights"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(CprWeights, BadCheckpointsNameKeysAndShapes) {
  auto full = official_state_dict(mutable_net());
  full.source = "/data/weights/vial.pth";
  {  // a missing head key
    auto sd = full;
    sd.tensors.erase("lrb.conv.1.3.branch1.1.bn.running_var");
    sd.keys.erase(std::find(sd.keys.begin(), sd.keys.end(), "lrb.conv.1.3.branch1.1.bn.running_var"));
    CprNetwork net;
    auto msg = error_of<ModelError>([&] { load_cpr_weights(*net, sd, ""); });
    EXPECT_NE(msg.find("/data/weights/vial.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("conv.1.3.branch1.1.bn.running_var"), std::string::npos) << msg;
  }
  {  // a wrong shape
    auto sd = full;
    sd.tensors["lrb.conv.0.3.branch0.conv.weight"] = torch::zeros({64, 190, 1, 1});
    CprNetwork net;
    auto msg = error_of<ModelError>([&] { load_cpr_weights(*net, sd, ""); });
    EXPECT_NE(msg.find("conv.0.3.branch0.conv.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("190"), std::string::npos) << msg;
  }
  {  // half a backbone
    auto sd = drop_keys(full, kOfficialBackbonePrefix + "features.denseblock2");
    CprNetwork net;
    auto msg = error_of<ModelError>([&] { load_cpr_weights(*net, sd, ""); });
    EXPECT_NE(msg.find("denseblock2"), std::string::npos) << msg;
  }
  {  // not a CPR checkpoint at all
    auto sd = drop_keys(full, "lrb.");
    CprNetwork net;
    auto msg = error_of<ModelError>([&] { load_cpr_weights(*net, sd, ""); });
    EXPECT_NE(msg.find("lrb.conv.0.4.weight"), std::string::npos) << msg;
  }
}

// ---- package backend ---------------------------------------------------------

TEST(CprPackage, CreateModelScoresLikeTheOfficialCode) {
  for (bool object : {false, true}) {
    auto model = create_cpr_model(package_profile(package_dir(), object), ModelOptions{"cpu", "fp32", 0});
    EXPECT_NE(model->describe().find("cpr"), std::string::npos);
    EXPECT_EQ(model->device(), torch::Device(torch::kCPU));
    auto scored = model->score(fixture().query_image.unsqueeze(0), {cv::Size(320, 320)});
    const std::string dir = object ? "tiny-object/" : "tiny/";
    EXPECT_LE(max_abs_diff(scored.maps[0], npy(dir + "anomaly_map.npy")), 1e-4);
    const double ref = object ? 504.57625988563194 : npy("tiny/score.npy").item<double>();
    EXPECT_NEAR(scored.scores[0], ref, 1e-5 * ref);
  }
}

TEST(CprPackage, BadPackagesAndInputs) {
  const auto opts = ModelOptions{"cpu", "fp32", 0};
  {  // not a folder
    auto p = package_profile("/nonexistent/pkg", false);
    auto msg = error_of<ModelError>([&] { create_cpr_model(p, opts); });
    EXPECT_NE(msg.find("/nonexistent/pkg"), std::string::npos) << msg;
  }
  {  // no bank
    const auto d = temp_dir("nobank");
    fs::copy_file(package_dir() + "/" + kWeightsFile, d + "/" + kWeightsFile);
    auto msg = error_of<ModelError>([&] { create_cpr_model(package_profile(d, false), opts); });
    EXPECT_NE(msg.find(d + "/bank.bin"), std::string::npos) << msg;
    // corrupt bank
    std::ofstream(d + "/" + kBankFile, std::ios::binary) << "ADVADCPRBANK garbage";
    msg = error_of<ModelError>([&] { create_cpr_model(package_profile(d, false), opts); });
    EXPECT_NE(msg.find(d + "/bank.bin"), std::string::npos) << msg;
    fs::remove_all(d);
  }
  {  // input size of the profile differs from the bank's
    auto p = package_profile(package_dir(), false);
    p.input.width = p.input.height = 256;
    auto msg = error_of<ModelError>([&] { create_cpr_model(p, opts); });
    EXPECT_NE(msg.find("320x320"), std::string::npos) << msg;
    EXPECT_NE(msg.find("256x256"), std::string::npos) << msg;
  }
  {  // bad [cpr] value
    auto p = package_profile(package_dir(), false);
    p.method_groups["cpr"]["k"] = "-1";
    auto msg = error_of<ProfileError>([&] { create_cpr_model(p, opts); });
    EXPECT_NE(msg.find("profile.ini"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[cpr] k: value -1 out of range"), std::string::npos) << msg;
  }
  {  // fp16 on the CPU
    auto msg = error_of<ModelError>([&] { create_cpr_model(package_profile(package_dir(), false), {"cpu", "fp16", 0}); });
    EXPECT_NE(msg.find("fp16"), std::string::npos) << msg;
  }
  auto model = create_cpr_model(package_profile(package_dir(), false), opts);
  EXPECT_THROW(model->score(torch::zeros({1, 3, 256, 256}), {cv::Size(256, 256)}), InputError);
  EXPECT_THROW(model->score(torch::zeros({1, 1, 320, 320}), {cv::Size(320, 320)}), InputError);
  EXPECT_THROW(model->score(torch::zeros({2, 3, 320, 320}), {cv::Size(320, 320)}), InputError);
}

TEST(CprPackage, NoTrainingImagesIsAnError) {
  CprNetwork net;
  EXPECT_THROW(extract_train_features(*net, {}, torch::kCPU), InputError);
  const auto d = temp_dir("empty");
  std::ofstream(d + "/notes.txt") << "no images here";
  auto msg = error_of<InputError>([&] { list_training_images(d); });
  EXPECT_NE(msg.find(d), std::string::npos) << msg;
  EXPECT_THROW(list_training_images(d + "/missing"), InputError);
  fs::create_directories(d + "/good");
  fs::copy_file(cprtest::data("tiny/train_001.png"), d + "/good/b.png");
  fs::copy_file(cprtest::data("tiny/train_000.png"), d + "/good/a.PNG");
  EXPECT_EQ(list_training_images(d), (std::vector<std::string>{"good/a.PNG", "good/b.png"}));
  fs::remove_all(d);
}
