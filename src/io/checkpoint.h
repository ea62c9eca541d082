// Training checkpoints as state dicts: integer "meta.<name>" entries (step,
// seed, the settings a resume must share), named tensors and optimizer state.
// Written through a temporary file and renamed, so an interrupted write never
// leaves a half checkpoint. Shared by the INP-Former and CPR trainers.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include <torch/types.h>

#include "io/state_dict.h"

namespace advad {

// Appends key -> a detached CPU copy of t.
void put_copy(StateDict& sd, const std::string& key, const torch::Tensor& t);
// Appends "meta.<name>" -> int64 scalar.
void put_meta(StateDict& sd, const std::string& name, int64_t value);

// Creates the folder, writes <path>.tmp, renames it to path. ModelError on failure.
void save_checkpoint(const StateDict& sd, const std::string& path);
// ModelError "no checkpoint at <path> to resume from ..." when missing.
StateDict load_checkpoint(const std::string& path);

int64_t checkpoint_meta(const StateDict& sd, const std::string& name);
// ModelError naming the file, `what`, the checkpoint's and this run's values
// when meta.<name> differs from want.
void expect_meta(const StateDict& sd, const std::string& name, int64_t want, const std::string& what);
// "meta.step" within [0, total], else ModelError.
long checkpoint_step(const StateDict& sd, long total);

// Copies <prefix><name> into each target tensor (no grad). ModelError naming
// the key and both shapes, plus `hint`, when a shape differs.
void restore_tensors(const StateDict& sd, const std::string& prefix,
                     const std::vector<std::pair<std::string, torch::Tensor>>& targets, const std::string& hint);

}  // namespace advad
