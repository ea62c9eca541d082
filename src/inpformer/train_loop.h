// INP-Former training: the official recipe (frozen encoder; StableAdamW with
// AMSGrad; warm-up + cosine learning rate per step; global grad-norm clip;
// soft-mining + 0.2 x coherence loss) on the seed's tiled training set.
// InpFormerTrainer (train_loop.cpp) is the INP-Former plug-in of the training
// skeleton (train/trainer.h), which gives checkpoints, exact resume and the
// model package at the end. The step report's values: "soft_mining",
// "coherence" (the loss terms), "lr", "grad_norm". Preparation stage: "tiles".
#pragma once
#include <string>

#include "core/profile.h"
#include "inpformer/train_settings.h"
#include "train/trainer.h"

namespace advad::inpformer {

struct TrainRunResult : train::RunResult {
  size_t images = 0, tiles = 0;
  std::string model;  // one line: architecture
};

// Throws ProfileError / InputError / ModelError with messages that name the
// file, key or value at fault.
TrainRunResult run_inpformer_training(const Profile& profile, const TrainSettings& settings,
                                      const train::RunOptions& options);

}  // namespace advad::inpformer
