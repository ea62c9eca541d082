// StableAdamW, the warm-up/cosine schedule, the grad-norm clip and the loss
// against values computed by a PyTorch 1.13 re-implementation of the official
// code (tests/data/inptrain/README.md says how they were produced).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <torch/torch.h>

#include "core/error.h"
#include "inpformer/train_loss.h"
#include "inpformer/train_optim.h"
#include "io/npy.h"

using namespace advad::inpformer;

namespace {

torch::Tensor fixture(const std::string& name) {
  const char* dir = std::getenv("ADVAD_TEST_DATA");
  EXPECT_NE(dir, nullptr) << "ADVAD_TEST_DATA is not set";
  return advad::load_npy(std::string(dir ? dir : ".") + "/inptrain/" + name + ".npy");
}

// max |a - b| / (max |b| + tiny): relative to the tensor's scale.
double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / (b.abs().max() + 1e-30)).item<double>();
}

void run_adamw_fixture(const std::string& tag, bool amsgrad) {
  std::vector<torch::Tensor> params;
  for (int i = 0; i < 3; ++i) params.push_back(fixture("adamw_" + tag + "_p" + std::to_string(i) + "_init").clone());
  StableAdamWOptions o;
  o.amsgrad = amsgrad;
  StableAdamW opt(params, o);
  const torch::Tensor lrs = fixture("adamw_" + tag + "_lrs");
  for (int k = 0; k < 3; ++k) {
    opt.set_lr(lrs[k].item<double>());
    for (int i = 0; i < 3; ++i)
      params[i].mutable_grad() = fixture("adamw_" + tag + "_g" + std::to_string(k) + "_" + std::to_string(i));
    const std::vector<torch::Tensor> before = {params[0].clone(), params[1].clone(), params[2].clone()};
    opt.step();
    for (int i = 0; i < 3; ++i) {
      const torch::Tensor want = fixture("adamw_" + tag + "_p" + std::to_string(i) + "_step" + std::to_string(k));
      // Compare the update (p_new - p_old), which is ~1e-3 of p: a wrong update rule shows at once.
      EXPECT_LT(rel_err(params[i] - before[i], want - before[i]), 1e-4)
          << tag << " step " << k << " tensor " << i;
      EXPECT_LT((params[i] - want).abs().max().item<double>(), 1e-6) << tag << " step " << k << " tensor " << i;
    }
  }
}

}  // namespace

TEST(StableAdamW, MatchesReferenceWithAmsgrad) { run_adamw_fixture("ams", true); }
TEST(StableAdamW, MatchesReferenceWithoutAmsgrad) { run_adamw_fixture("noams", false); }

TEST(StableAdamW, AmsgradChangesTheThirdStep) {
  // The fixture's third step shrinks one gradient, so the running max of v matters there.
  const torch::Tensor ams = fixture("adamw_ams_p0_step2") - fixture("adamw_ams_p0_step1");
  const torch::Tensor plain = fixture("adamw_noams_p0_step2") - fixture("adamw_noams_p0_step1");
  EXPECT_GT(rel_err(ams, plain), 1e-3) << "fixture does not exercise the amsgrad branch";
}

TEST(StableAdamW, SkipsTensorsWithoutGradAndZeroGradKeepsTensor) {
  torch::Tensor a = torch::ones({3}), b = torch::ones({2});
  StableAdamW opt({a, b}, StableAdamWOptions{});
  a.mutable_grad() = torch::full({3}, 0.5);
  opt.step();
  EXPECT_TRUE(torch::equal(b, torch::ones({2})));  // no grad: not even weight decay
  EXPECT_FALSE(torch::equal(a, torch::ones({3})));
  opt.zero_grad();
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(a.grad().abs().sum().item<double>(), 0.0);
}

TEST(StableAdamW, StateRoundTripsThroughStateDict) {
  torch::Tensor a = torch::randn({4, 2}), a2 = a.clone();
  StableAdamW opt({a}, StableAdamWOptions{}), opt2({a2}, StableAdamWOptions{});
  torch::Tensor g1 = torch::randn({4, 2}), g2 = torch::randn({4, 2});
  a.mutable_grad() = g1.clone();
  opt.step();
  advad::StateDict sd;
  opt.save_state(sd, "optim.");
  a2.mutable_grad() = g1.clone();
  opt2.step();  // a2 == a now; give opt2 the saved moments and check the next step agrees
  StableAdamW opt3({a2}, StableAdamWOptions{});
  opt3.load_state(sd, "optim.");
  a.mutable_grad() = g2.clone();
  a2.mutable_grad() = g2.clone();
  opt.step();
  opt3.step();
  EXPECT_TRUE(torch::allclose(a, a2, 0, 0));
  StableAdamW other({torch::randn({3})}, StableAdamWOptions{});
  EXPECT_THROW(other.load_state(sd, "optim."), advad::ModelError);
}

TEST(WarmCosine, MatchesNumpySchedule) {
  const torch::Tensor want = fixture("sched_lr");  // total 250, warm-up 100, 1e-3 -> 1e-4, 260 iterations
  ASSERT_EQ(want.numel(), 260);
  for (long i = 0; i < 260; ++i)
    EXPECT_NEAR(warm_cosine_lr(i, 250, 100, 1e-3, 1e-4), want[i].item<double>(), 1e-12) << "iteration " << i;
  EXPECT_EQ(warm_cosine_lr(0, 250, 100, 1e-3, 1e-4), 0.0);
}

TEST(ClipGradNorm, MatchesTorchClip) {
  std::vector<torch::Tensor> ps = {torch::zeros({3, 4}), torch::zeros({7})};
  for (int i = 0; i < 2; ++i) ps[i].mutable_grad() = fixture("clip_g" + std::to_string(i)).clone();
  const double total = clip_grad_norm(ps, 0.1);
  EXPECT_NEAR(total, fixture("clip_total_norm")[0].item<double>(), 1e-5);
  for (int i = 0; i < 2; ++i)
    EXPECT_LT(rel_err(ps[i].grad(), fixture("clip_g" + std::to_string(i) + "_out")), 1e-6);
  // Below the limit nothing changes.
  std::vector<torch::Tensor> small = {torch::zeros({2})};
  small[0].mutable_grad() = torch::full({2}, 0.01);
  clip_grad_norm(small, 0.1);
  EXPECT_TRUE(torch::allclose(small[0].grad(), torch::full({2}, 0.01)));
}

TEST(TrainLoss, ValueAndHookedGradientsMatchReference) {
  std::vector<torch::Tensor> enc, dec;
  for (int i = 0; i < 2; ++i) {
    enc.push_back(fixture("loss_enc" + std::to_string(i)));
    dec.push_back(fixture("loss_dec" + std::to_string(i)).clone().requires_grad_(true));
  }
  const torch::Tensor fused = fixture("loss_fused");
  const torch::Tensor protos = fixture("loss_protos").clone().requires_grad_(true);
  // Coherence distance written out here (the network module owns the real one).
  namespace F = torch::nn::functional;
  const torch::Tensor dist =
      std::get<0>((1 - F::cosine_similarity(fused.unsqueeze(2), protos.unsqueeze(1),
                                            F::CosineSimilarityFuncOptions().dim(-1).eps(1e-8)))
                      .min(2));
  TrainLoss l = inpformer_loss(enc, dec, dist, 0.2, 3.0);
  const torch::Tensor want = fixture("loss_values");
  EXPECT_NEAR(l.total.item<double>(), want[0].item<double>(), 1e-6);
  EXPECT_NEAR(l.soft_mining.item<double>(), want[1].item<double>(), 1e-6);
  EXPECT_NEAR(l.coherence.item<double>(), want[2].item<double>(), 1e-6);
  l.total.backward();
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor g = fixture("loss_dec" + std::to_string(i) + "_grad");
    EXPECT_LT(rel_err(dec[i].grad(), g), 1e-5) << "group " << i;
    // The hook matters: the plain gradient is clearly different.
    EXPECT_GT(rel_err(fixture("loss_dec" + std::to_string(i) + "_grad_nohook"), g), 0.05);
  }
  EXPECT_LT(rel_err(protos.grad(), fixture("loss_protos_grad")), 1e-5);
}

TEST(TrainLoss, RejectsMismatchedGroups) {
  std::vector<torch::Tensor> e = {torch::randn({1, 4, 2, 2})}, d = {torch::randn({1, 4, 2, 3})};
  EXPECT_THROW(soft_mining_loss(e, d), advad::Error);
  EXPECT_THROW(soft_mining_loss(e, std::vector<torch::Tensor>{}), advad::Error);
}
