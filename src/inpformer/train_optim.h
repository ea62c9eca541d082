// Optimisation pieces of INP-Former training, as the official scripts use them:
// StableAdamW (optimizers/StableAdamW.py), the per-iteration warm-up + cosine
// learning rate (utils.py WarmCosineScheduler) and the global grad-norm clip
// (torch.nn.utils.clip_grad_norm_).
#pragma once
#include <string>
#include <vector>
#include <torch/types.h>

#include "io/state_dict.h"

namespace advad::inpformer {

struct StableAdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-10;           // the training scripts pass 1e-10 (class default 1e-8)
  double weight_decay = 1e-4;   // decoupled (AdamW) decay
  bool amsgrad = true;
  double clip_threshold = 1.0;  // per-tensor update RMS above this scales the step down
};

// AdamW with AMSGrad and a per-tensor "stable" step: the step of each tensor is
// divided by max(1, RMS(grad / denom) / clip_threshold). Tensors whose grad is
// undefined are skipped (state untouched), as in the official class.
class StableAdamW {
 public:
  StableAdamW(std::vector<torch::Tensor> params, StableAdamWOptions options);

  void step();
  void zero_grad();  // zero the grads in place (PyTorch 1.13's default)
  void set_lr(double lr) { options_.lr = lr; }
  const StableAdamWOptions& options() const { return options_; }
  const std::vector<torch::Tensor>& params() const { return params_; }

  // Moments and step counts as state-dict entries "<prefix><i>.step|exp_avg|exp_avg_sq|max_exp_avg_sq"
  // (i = parameter index), for checkpoints. load_state throws ModelError naming the key on a mismatch.
  void save_state(StateDict& sd, const std::string& prefix) const;
  void load_state(const StateDict& sd, const std::string& prefix);

 private:
  struct ParamState {
    int64_t step = 0;
    torch::Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
  };
  std::vector<torch::Tensor> params_;
  std::vector<ParamState> state_;
  StableAdamWOptions options_;
};

// Learning rate of iteration `iter` (0-based): linspace(start, base, warmup)
// for the first `warmup` iterations (iteration 0 gets `start`), then
// final + (base - final)(1 + cos(pi k / (total - warmup))) / 2 for k = iter - warmup,
// and `final` from iteration `total` on.
double warm_cosine_lr(long iter, long total, long warmup, double base, double final, double start = 0.0);

// Scale all grads by min(1, max_norm / (total_norm + 1e-6)), where total_norm is
// the L2 norm of the per-tensor grad norms. Returns total_norm (before clipping).
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace advad::inpformer
