#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/model.h"
#include "io/checkpoint.h"

namespace fs = std::filesystem;

namespace advad::train {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The run's fixed facts: paths and what a checkpoint must agree on.
struct Run {
  std::string output, checkpoint;
  long total = 0;
  int64_t seed = 0;
  std::vector<ShapeEntry> shape;
};

Run resolve_paths(const Method& m, const Profile& profile, const RunOptions& o) {
  if (profile.method != m.method())
    throw ProfileError(profile.path + ": [profile] method is " + profile.method + "; the " + m.name() +
                       " trainer needs method = " + m.method());
  Run run;
  run.output = o.output.empty() ? profile.model : o.output;
  if (run.output.empty())
    throw ProfileError(profile.path + ": [profile] model is empty; name the package folder to write");
  run.checkpoint = o.checkpoint.empty() ? (fs::path(run.output) / "checkpoint.pth").string() : o.checkpoint;
  return run;
}

void write_checkpoint(Method& m, const Run& run, long step) {
  StateDict sd;
  put_meta(sd, "step", step);
  put_meta(sd, "total", run.total);
  put_meta(sd, "seed", run.seed);
  for (const ShapeEntry& e : run.shape) put_meta(sd, e.name, e.value);
  m.save_state(sd);
  save_checkpoint(sd, run.checkpoint);
}

long read_checkpoint(Method& m, const Run& run) {
  const StateDict sd = load_checkpoint(run.checkpoint);
  expect_meta(sd, "seed", run.seed, "seed");
  expect_meta(sd, "total", run.total, "total steps");
  for (const ShapeEntry& e : run.shape) expect_meta(sd, e.name, e.value, e.what);
  m.load_state(sd, run.checkpoint);
  return checkpoint_step(sd, run.total);
}

// Runs steps [first, stop), checkpointing and reporting; returns the step reached.
long step_loop(Method& m, const Run& run, const RunOptions& o, long first, RunResult& res) {
  const long stop = o.stop_after > 0 ? std::min(run.total, o.stop_after) : run.total;
  const long every = m.checkpoint_every();
  const double t0 = now_s();
  long step = first;
  while (step < stop) {
    StepLoss loss = m.step(step);
    ++step;
    StepReport info;
    info.step = step;
    info.total = run.total;
    info.loss = loss.total;
    info.values = std::move(loss.values);
    info.elapsed_s = now_s() - t0;
    info.eta_s = info.elapsed_s / static_cast<double>(step - first) * static_cast<double>(stop - step);
    if (!std::isfinite(info.loss))
      throw ModelError("training diverged at step " + std::to_string(step) + " (loss " + std::to_string(info.loss) +
                       "); " + m.divergence_hint());
    res.losses.push_back(info.loss);
    if (o.on_step) o.on_step(info);
    const bool periodic = every > 0 && step % every == 0 && step < run.total;
    if (periodic || (step == stop && stop < run.total)) {
      write_checkpoint(m, run, step);
      res.checkpoint = run.checkpoint;
    }
  }
  if (step > first) res.seconds_per_step = (now_s() - t0) / static_cast<double>(step - first);
  return step;
}

// The checkpoint is removed once the package exists, unless kept.
std::string finish_checkpoint(const std::string& ckpt, bool keep) {
  if (!fs::exists(ckpt)) return "";
  if (keep) return ckpt;
  std::error_code ec;
  fs::remove(ckpt, ec);
  return "";
}

}  // namespace

double StepReport::value(const std::string& name) const {
  for (const auto& [k, v] : values)
    if (k == name) return v;
  return 0;
}

RunResult run_training(Method& m, const Profile& profile, const RunOptions& o) {
  Run run = resolve_paths(m, profile, o);
  const torch::Device device = resolve_device(o.device);
  const StageFn stage = [&](const std::string& name, int64_t done, int64_t total) {
    if (o.on_stage) o.on_stage(name, done, total);
  };
  m.prepare(device, stage);
  run.total = m.total_steps();
  run.seed = m.seed();
  run.shape = m.shape();

  RunResult res;
  res.total_steps = run.total;
  res.start_step = o.resume ? read_checkpoint(m, run) : 0;
  res.steps_done = step_loop(m, run, o, res.start_step, res);
  if (res.steps_done < run.total) return res;  // stopped early: the checkpoint holds the state

  res.package_profile = m.write_package(run.output, stage);
  res.checkpoint = finish_checkpoint(run.checkpoint, o.keep_checkpoint);
  return res;
}

}  // namespace advad::train
