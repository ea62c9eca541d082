// CPR precision: bf16 network (DenseNet201 trunk and LRB heads in bf16, stem
// and everything after the network in float32) against the float32 model on
// the parity fixtures tiny (texture) and tiny-object (FEB foreground), through
// the package loader (describe() names the precision) and the int8 refusal.
// Without native bf16 on the CPU LibTorch emulates it (slowly); the numbers
// stay the same, only the speed differs (benchmarks: `advad bench cpr`).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/model.h"
#include "cpr/model/model.h"
#include "cpr/model/weights.h"
#include "cpr_fixture.h"

using namespace advad;
using namespace advad::cpr;
using cprtest::fixture;
using cprtest::npy;
namespace fs = std::filesystem;

namespace {

// The fused / blurred CPR maps are sums of two cosine distances (each in [0,2]),
// so they are not in [0,1]: on the fixture the fused map spans 0.02..1.21 and
// the blurred one 0.03..1.11 (range about 1.1-1.2). Issue 12's goal for bf16 is
// max |diff| <= 2e-2; it is asserted as such (absolute) and as 2 % of the fp32
// map's range (max - min, the scale thresholds are set on), which is the
// meaning of 2e-2 on a [0,1] map. Measured (LibTorch 1.13, avx512_bf16, stem
// in fp32), bf16 vs fp32:
//   texture fused map  max 1.01e-2 (0.85 % of range), mean 1.56e-3
//   texture blurred    max 6.5e-3, mean 1.2e-3; score 535.76 vs 535.48 (+0.05 %)
//   object  map        max 7.5e-3, mean 6.6e-4 (foreground weighting)
//   object  blurred    max 5.7e-3, mean 5.1e-4; score 504.82 vs 504.58 (+0.05 %)
//   retrieval (K nearest training images) unchanged.
// With the stem in bf16 too the texture fused map was 2.2e-2 max (1.9 %), mean 3.3e-3.
constexpr double kMaxAbs = 2e-2;    // max |diff|
constexpr double kMaxRel = 2e-2;    // max |diff| / fp32 map range
constexpr double kMeanRel = 3e-3;   // mean |diff| / fp32 map range
constexpr double kScoreRel = 5e-3;  // top-T sum, relative

CprNetwork fresh_net() {
  CprNetwork n;
  load_cpr_weights(*n, cprtest::model_pth(), "");
  n->eval();
  return n;
}

CprBank fixture_bank(bool object) {
  const auto& f = fixture();
  torch::Tensor w, b;
  if (object) {
    w = npy("tiny-object/feb_weight.npy");
    b = npy("tiny-object/feb_bias.npy");
  }
  return assemble_bank(f.train, npy("tiny/grb_codebook.npy"), w, b, f.train_names);
}

CprSettings settings(bool object) {
  CprSettings s;
  s.k = 3;
  s.foreground = object;
  return s;
}

struct Diff {
  double max = 0, mean = 0, range = 0;
};
Diff diff(const torch::Tensor& test, const torch::Tensor& ref) {
  EXPECT_EQ(test.sizes(), ref.sizes());
  auto d = (test.to(torch::kDouble) - ref.to(torch::kDouble)).abs();
  return {d.max().item<double>(), d.mean().item<double>(), (ref.max() - ref.min()).item<double>()};
}

std::string temp_dir(const std::string& name) {
  auto d = advad::test::test_tmp_dir("cprp") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

}  // namespace

TEST(CprPrecision, NetworkRunsInBf16WithStemInFloat32) {
  auto net = fresh_net();
  net->to_inference(torch::kCPU, torch::kBFloat16);
  auto params = net->named_parameters();
  EXPECT_EQ(params["backbone.features.conv0.weight"].scalar_type(), torch::kFloat);
  EXPECT_EQ(params["backbone.features.norm0.weight"].scalar_type(), torch::kFloat);
  EXPECT_EQ(params["backbone.features.denseblock2.denselayer12.conv2.weight"].scalar_type(), torch::kBFloat16);
  EXPECT_EQ(params["lrb.conv.1.4.weight"].scalar_type(), torch::kBFloat16);
  EXPECT_EQ(net->named_buffers()["backbone.features.denseblock1.denselayer1.norm1.running_var"].scalar_type(),
            torch::kBFloat16);
  torch::NoGradGuard ng;
  auto f = net->forward(fixture().query_image.unsqueeze(0));  // float32 input is cast by the trunk
  EXPECT_EQ(f.taps[1].scalar_type(), torch::kBFloat16);
  EXPECT_EQ(f.heads[0].scalar_type(), torch::kBFloat16);
  // The stem's weights were never rounded: they equal a fresh network's.
  auto ref = fresh_net()->named_parameters();
  EXPECT_TRUE(torch::equal(params["backbone.features.conv0.weight"], ref["backbone.features.conv0.weight"]));
  // Back to float32 (the blocks keep their bf16-rounded values): the trunk's casts follow.
  net->to_inference(torch::kCPU, torch::kFloat);
  auto g = net->forward(fixture().query_image.unsqueeze(0));
  EXPECT_EQ(g.heads[1].scalar_type(), torch::kFloat);
  // A float32 network from to_inference gives the fixture's float32 outputs exactly.
  auto n32 = fresh_net();
  n32->to_inference(torch::kCPU, torch::kFloat);
  EXPECT_LE(cprtest::max_abs_diff(n32->forward(fixture().query_image.unsqueeze(0)).heads[1], fixture().query.heads[1]),
            1e-6);
}

TEST(CprPrecision, Bf16MapsStayCloseToFp32) {
  const auto query = fixture().query_image.unsqueeze(0);
  for (bool object : {false, true}) {
    CprModel fp32(fresh_net(), fixture_bank(object), settings(object), torch::kCPU);
    CprModel bf16(fresh_net(), fixture_bank(object), settings(object), torch::kCPU, torch::kBFloat16);
    const auto a = fp32.score_details(query)[0], b = bf16.score_details(query)[0];
    const char* what = object ? "object" : "texture";
    EXPECT_EQ(b.retrieved, a.retrieved) << what;
    EXPECT_EQ(b.fused.scalar_type(), torch::kFloat) << what;  // maps stay float32 after the network
    for (const auto& [name, t, r] : {std::tuple{"fused", b.fused, a.fused}, std::tuple{"map", b.map, a.map},
                                     std::tuple{"blurred", b.blurred, a.blurred}}) {
      const Diff d = diff(t, r);
      std::cout << "  [" << what << "] " << name << " bf16 vs fp32: max " << d.max << " mean " << d.mean
                << " (range " << d.range << ")\n";
      EXPECT_LE(d.max, kMaxAbs) << what << " " << name;
      EXPECT_LE(d.max, kMaxRel * d.range) << what << " " << name;
      EXPECT_LE(d.mean, kMeanRel * d.range) << what << " " << name;
      EXPECT_GT(d.max, 0.0) << what << " " << name << ": bf16 gave exactly the fp32 map (did it run in bf16?)";
    }
    std::cout << "  [" << what << "] score bf16 " << b.score << " fp32 " << a.score << "\n";
    EXPECT_NEAR(b.score, a.score, kScoreRel * a.score) << what;
    // The official map (blur on) as the Model interface returns it, vs the Python fixture.
    bf16.settings().blur = true;
    const auto scored = bf16.score(query, {cv::Size(320, 320)});
    const auto ref = npy(object ? "tiny-object/anomaly_map.npy" : "tiny/anomaly_map.npy");
    const Diff o = diff(scored.maps[0], ref);
    std::cout << "  [" << what << "] bf16 vs official fp32 map: max " << o.max << " mean " << o.mean << "\n";
    EXPECT_LE(o.max, kMaxAbs) << what;
    EXPECT_LE(o.max, kMaxRel * o.range) << what;
  }
}

TEST(CprPrecision, PackageLoaderNamesThePrecisionAndRefusesInt8) {
  const auto d = temp_dir("pkg");
  CprNetwork net = fresh_net();
  save_state_dict(official_state_dict(*net), d + "/" + kWeightsFile);
  fixture_bank(false).save(d + "/" + kBankFile);
  Profile p;
  p.path = d + "/profile.ini";
  p.method = "cpr";
  p.model = d;
  p.input.width = p.input.height = 320;
  p.input.resize = ResizeFilter::Linear;
  p.method_groups["cpr"] = {{"k", "3"}, {"blur", "on"}, {"foreground", "off"}};

  auto bf16 = create_cpr_model(p, ModelOptions{"cpu", "bf16", 0});
  EXPECT_NE(bf16->describe().find("network bf16"), std::string::npos) << bf16->describe();
  EXPECT_NE(bf16->describe().find("stem and maps fp32"), std::string::npos) << bf16->describe();
  auto fp32 = create_cpr_model(p, ModelOptions{"cpu", "fp32", 0});
  EXPECT_NE(fp32->describe().find("network fp32"), std::string::npos) << fp32->describe();
  EXPECT_EQ(fp32->describe().find("bf16"), std::string::npos) << fp32->describe();
  // auto: whatever the resolver picks for CPR here, with its reason.
  const PrecisionChoice choice = resolve_model_precision(p, ModelOptions{"cpu", "auto", 0});
  auto automatic = create_cpr_model(p, ModelOptions{"cpu", "auto", 0});
  EXPECT_NE(automatic->describe().find("network " + choice.name + " (" + choice.reason + ")"), std::string::npos)
      << automatic->describe();
  // The loaded bf16 package scores the fixture close to the fp32 package.
  const auto q = fixture().query_image.unsqueeze(0);
  const auto a = fp32->score(q, {cv::Size(320, 320)}), b = bf16->score(q, {cv::Size(320, 320)});
  const Diff m = diff(b.maps[0], a.maps[0]);
  EXPECT_LE(m.max, kMaxAbs);
  EXPECT_LE(m.max, kMaxRel * m.range);
  EXPECT_NEAR(b.scores[0], a.scores[0], kScoreRel * a.scores[0]);

  try {
    create_cpr_model(p, ModelOptions{"cpu", "int8", 0});
    ADD_FAILURE() << "int8 CPR loaded";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("int8"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not implemented for CPR"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bf16"), std::string::npos) << msg;  // says what to use instead
  }
  fs::remove_all(d);
}
