// INP-Former training run: the official recipe (frozen encoder; StableAdamW
// with AMSGrad; warm-up + cosine learning rate per step; global grad-norm
// clip; soft-mining + 0.2 x coherence loss) on the seed's tiled training set,
// with checkpoints, exact resume, and a model package at the end.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/profile.h"
#include "inpformer/train_settings.h"

namespace advad::inpformer {

struct TrainStep {
  long step = 0, total = 0;  // step is 1-based (steps done so far)
  double loss = 0, soft_mining = 0, coherence = 0, lr = 0, grad_norm = 0;
};

struct TrainRunOptions {
  std::string output;          // package folder; "" = the profile's model path
  std::string checkpoint;      // checkpoint file; "" = <output>/checkpoint.pth
  bool resume = false;         // continue from the checkpoint file (ModelError when there is none)
  bool keep_checkpoint = false;  // otherwise it is deleted once the package is written
  std::string device = "cpu";  // auto | cpu | cuda | cuda:N
  long stop_after = 0;         // > 0: stop after this many steps with a checkpoint and no package
  std::function<void(size_t done, size_t total)> on_image;  // while the tiles are prepared
  std::function<void(const TrainStep&)> on_step;            // after every step
};

struct TrainRunResult {
  std::string package_profile;  // profile.ini of the written package; "" when stopped early
  std::string checkpoint;       // the last checkpoint written ("" if none is left on disk)
  long steps_done = 0, total_steps = 0, start_step = 0;
  size_t images = 0, tiles = 0;
  std::string model;            // one line: architecture
  std::vector<double> losses;   // total loss of every step run by this call
};

// Throws ProfileError / InputError / ModelError with messages that name the
// file, key or value at fault.
TrainRunResult run_inpformer_training(const Profile& profile, const TrainSettings& settings,
                                      const TrainRunOptions& options);

}  // namespace advad::inpformer
