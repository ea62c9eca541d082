#include "inpformer/train_optim.h"

#include <algorithm>
#include <cmath>
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "core/error.h"

namespace advad::inpformer {

StableAdamW::StableAdamW(std::vector<torch::Tensor> params, StableAdamWOptions options)
    : params_(std::move(params)), state_(params_.size()), options_(options) {
  if (options_.lr < 0 || options_.eps < 0 || options_.weight_decay < 0 || options_.beta1 < 0 ||
      options_.beta1 >= 1 || options_.beta2 < 0 || options_.beta2 >= 1 || options_.clip_threshold <= 0)
    throw Error("StableAdamW: invalid options (need lr, eps, weight_decay >= 0, betas in [0,1), clip_threshold > 0)");
}

void StableAdamW::step() {
  torch::NoGradGuard no_grad;
  const auto& o = options_;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor p = params_[i];
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    p.mul_(1.0 - o.lr * o.weight_decay);  // decoupled weight decay, before the moments

    ParamState& st = state_[i];
    if (st.step == 0) {
      st.exp_avg = torch::zeros_like(p);
      st.exp_avg_sq = torch::zeros_like(p);
      if (o.amsgrad) st.max_exp_avg_sq = torch::zeros_like(p);
    }
    st.step += 1;
    const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(st.step));
    const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(st.step));

    st.exp_avg.mul_(o.beta1).add_(grad, 1.0 - o.beta1);
    st.exp_avg_sq.mul_(o.beta2).addcmul_(grad, grad, 1.0 - o.beta2);
    torch::Tensor second = st.exp_avg_sq;
    if (o.amsgrad) {
      at::max_out(st.max_exp_avg_sq, st.max_exp_avg_sq, st.exp_avg_sq);
      second = st.max_exp_avg_sq;
    }
    torch::Tensor denom = (second.sqrt() / std::sqrt(bc2)).add_(o.eps);
    // The "stable" part: a tensor whose normalised update has RMS above the
    // threshold takes a proportionally smaller step.
    const double rms = ((grad / denom).norm(2) / std::sqrt(static_cast<double>(grad.numel()))).item<double>();
    const double scale = std::max(1.0, rms / o.clip_threshold);
    p.addcdiv_(st.exp_avg, denom, -(o.lr / bc1 / scale));
  }
}

void StableAdamW::zero_grad() {
  for (auto& p : params_) {
    torch::Tensor g = p.mutable_grad();
    if (g.defined()) {
      g.detach_();
      g.zero_();
    }
  }
}

void StableAdamW::save_state(StateDict& sd, const std::string& prefix) const {
  auto put = [&](const std::string& k, const torch::Tensor& t) {
    sd.keys.push_back(k);
    sd.tensors[k] = t.detach().to(torch::kCPU).clone();
  };
  for (size_t i = 0; i < state_.size(); ++i) {
    const std::string base = prefix + std::to_string(i) + ".";
    put(base + "step", torch::tensor({state_[i].step}, torch::kInt64));
    if (state_[i].step == 0) continue;
    put(base + "exp_avg", state_[i].exp_avg);
    put(base + "exp_avg_sq", state_[i].exp_avg_sq);
    if (state_[i].max_exp_avg_sq.defined()) put(base + "max_exp_avg_sq", state_[i].max_exp_avg_sq);
  }
}

void StableAdamW::load_state(const StateDict& sd, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  auto get = [&](const std::string& k, const torch::Tensor& like) {
    const torch::Tensor& t = sd.at(k);
    if (!t.sizes().equals(like.sizes()))
      throw ModelError(sd.source + ": optimizer state '" + k + "' has shape " + c10::str(t.sizes()) +
                       ", the parameter has " + c10::str(like.sizes()) +
                       "; the checkpoint belongs to another model configuration");
    return t.to(like.device(), like.scalar_type()).clone();
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string base = prefix + std::to_string(i) + ".";
    ParamState st;
    st.step = sd.at(base + "step").item<int64_t>();
    if (st.step > 0) {
      st.exp_avg = get(base + "exp_avg", params_[i]);
      st.exp_avg_sq = get(base + "exp_avg_sq", params_[i]);
      if (options_.amsgrad) st.max_exp_avg_sq = get(base + "max_exp_avg_sq", params_[i]);
    }
    state_[i] = st;
  }
  if (sd.has(prefix + std::to_string(params_.size()) + ".step"))
    throw ModelError(sd.source + ": the checkpoint's optimizer holds more tensors than the model trains (" +
                     std::to_string(params_.size()) + "); it belongs to another model configuration");
}

double warm_cosine_lr(long iter, long total, long warmup, double base, double final, double start) {
  if (iter >= total) return final;
  if (iter < warmup) {
    if (warmup == 1) return start;
    if (iter == warmup - 1) return base;  // numpy.linspace ends exactly at stop
    return start + (base - start) / static_cast<double>(warmup - 1) * static_cast<double>(iter);
  }
  const double k = static_cast<double>(iter - warmup), n = static_cast<double>(total - warmup);
  return final + 0.5 * (base - final) * (1.0 + std::cos(M_PI * k / n));
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  if (norms.empty()) return 0.0;
  const torch::Tensor total = torch::stack(norms).norm(2);
  const torch::Tensor coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (const auto& p : params)
    if (p.grad().defined()) p.mutable_grad().mul_(coef);
  return total.item<double>();
}

}  // namespace advad::inpformer
