#include "tools/train_cli.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace advad::tools {

namespace fs = std::filesystem;

namespace {

std::string flag_of(const std::string& key) {
  std::string f = key;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

}  // namespace

TrainCli::TrainCli(const std::string& summary, const std::string& profile_help, const std::vector<TrainKeyFlag>& flags,
                   std::vector<std::string> keys, const std::string& checkpoint_what, const std::string& device_help)
    : args_("train", summary), flags_(flags), keys_(std::move(keys)) {
  args_.positional("profile.ini", profile_help);
  for (const auto& f : flags_) args_.option(flag_of(f.key), f.value, f.help);
  args_.option("set", "KEY=VALUE",
               "override any [train] key (repeatable), e.g. --set " + keys_.front() + "=DIR; unknown keys are refused")
      .option("out", "DIR", "package folder to write (default: the profile's [profile] model)")
      .option("checkpoint", "FILE", "checkpoint file (default: <out>/checkpoint.pth); written every checkpoint_every\n"
                                    "      steps: " + checkpoint_what)
      .flag("resume", "continue from the checkpoint (same profile and flags); the result equals an uninterrupted run")
      .flag("keep-checkpoint", "keep the checkpoint after the package is written (default: delete it)")
      .option("stop-after", "N", "stop after step N with a checkpoint and no package (resume later with --resume)", "0")
      .option("device", "DEV", device_help, "cpu")
      .option("threads", "N", "LibTorch intra-op threads (0 = all cores)", "0")
      .quiet_flag();
}

bool TrainCli::parse(int argc, char** argv) {
  // cli::Args keeps one value per option and --set may repeat: take them out first.
  std::vector<char*> rest;
  auto add = [&](const std::string& kv) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw cli::UsageError("advad train: --set expects KEY=VALUE, got '" + kv + "'");
    const std::string key = kv.substr(0, eq);
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) {
      std::string accepted;
      for (const auto& k : keys_) accepted += (accepted.empty() ? "" : ", ") + k;
      throw cli::UsageError("advad train: --set " + key + ": unknown [train] key; accepted: " + accepted);
    }
    overrides_[key] = kv.substr(eq + 1);
  };
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--set") {
      if (i + 1 >= argc) throw cli::UsageError("advad train: --set needs a value <KEY=VALUE>");
      add(argv[++i]);
    } else if (a.rfind("--set=", 0) == 0) {
      add(a.substr(6));
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!args_.parse(static_cast<int>(rest.size()), rest.data())) return false;
  for (const auto& f : flags_)
    if (args_.has(flag_of(f.key))) overrides_[f.key] = args_.str(flag_of(f.key));
  // Command-line paths are relative to the working directory (the profile's own, to its folder).
  run_.output = args_.has("out") ? fs::absolute(args_.str("out")).lexically_normal().string() : "";
  run_.checkpoint = args_.has("checkpoint") ? fs::absolute(args_.str("checkpoint")).lexically_normal().string() : "";
  run_.resume = args_.on("resume");
  run_.keep_checkpoint = args_.on("keep-checkpoint");
  run_.device = args_.str("device");
  run_.stop_after = args_.integer("stop-after");
  if (run_.stop_after < 0) throw cli::UsageError("advad train: --stop-after must be >= 0");
  run_.threads = args_.integer("threads");
  if (run_.threads < 0) throw cli::UsageError("advad train: --threads must be >= 0");
  return true;
}

void TrainRunFlags::apply_to(train::RunOptions& o) const {
  o.output = output;
  o.checkpoint = checkpoint;
  o.resume = resume;
  o.keep_checkpoint = keep_checkpoint;
  o.device = device;
  o.stop_after = stop_after;
}

std::string fmt_number(double v, int prec) {
  std::ostringstream s;
  s << std::setprecision(prec) << v;
  return s.str();
}

void TrainProgress::attach(train::RunOptions& o) {
  o.on_stage = [this](const std::string& name, int64_t done, int64_t total) { on_stage(name, done, total); };
  o.on_step = [this](const train::StepReport& s) { on_step(s); };
}

void TrainProgress::on_stage(const std::string& name, int64_t done, int64_t total) {
  if (bar_) {  // training is over: the package stages follow
    bar_->finish("loss " + fmt_number(last_loss_));
    bar_.reset();
  }
  if (name != stage_name_) {
    if (stage_bar_) stage_bar_->finish();
    stage_bar_ = std::make_unique<cli::Progress>(name, static_cast<long>(total));
    stage_name_ = name;
  }
  stage_bar_->update(static_cast<long>(done));
}

void TrainProgress::on_step(const train::StepReport& s) {
  if (stage_bar_) {
    stage_bar_->finish();
    stage_bar_.reset();
    stage_name_.clear();
  }
  if (!bar_) bar_ = std::make_unique<cli::Progress>("train", s.total);
  avg_ = avg_ == 0 ? s.loss : 0.95 * avg_ + 0.05 * s.loss;
  last_loss_ = s.loss;
  const std::string extra = extra_ ? extra_(s) : "";
  bar_->update(s.step, "loss " + fmt_number(s.loss) + " (avg " + fmt_number(avg_) + ")" +
                           (extra.empty() ? "" : " " + extra));
}

void TrainProgress::finish() {
  if (bar_) bar_->finish("loss " + fmt_number(last_loss_));
  if (stage_bar_) stage_bar_->finish();
  bar_.reset();
  stage_bar_.reset();
}

int print_train_end(const train::RunResult& r) {
  if (!r.losses.empty())
    std::cout << "  loss first " << fmt_number(r.losses.front()) << ", last " << fmt_number(r.losses.back()) << "\n";
  if (r.package_profile.empty()) {
    std::cout << "stopped at step " << r.steps_done << "; checkpoint " << r.checkpoint << " (continue with --resume)\n";
    return 0;
  }
  std::cout << "package: " << fs::path(r.package_profile).parent_path().string() << " (profile " << r.package_profile
            << ")\n";
  if (!r.checkpoint.empty()) std::cout << "checkpoint kept: " << r.checkpoint << "\n";
  return 0;
}

}  // namespace advad::tools
