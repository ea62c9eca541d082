// CPR training (official train.py recipe, spec cpr.md 9): only the two LRB
// heads are trained, the DenseNet trunk stays frozen in eval mode. CprTrainer
// (train/run.cpp) is the CPR plug-in of the training skeleton (train/trainer.h):
//
//   1. training images (<data>/train/good or <data>) resized to [train] size;
//      one network pass gives the denseblock1 features for the GRB codebook
//      (k-means, 12 words) -> each image's k nearest other training images,
//      and, with [cpr] foreground = on, the FEB fit -> foreground maps
//   2. synth_per_image pseudo-anomalies per image (cpr/synth/synth.h, at synth_size
//      with the image's FEB map, then resized to size; masks nearest)
//   3. each step: batch pairs (a synthetic query, a reference drawn from its base
//      image's k neighbours, never the image itself), augmentation, points
//      (cpr/train/points.h), one forward of [queries; references] (trunk no-grad,
//      heads in train mode: BN batch statistics), contrastive loss
//      (cpr/train/loss.h), AdamW step on the head parameters
//   4. write_cpr_package with the trained heads (bank, codebook, FEB, profile)
//
// Randomness is counter-based: every (seed, stream, step, slot) has its own
// generator, so the state to resume from is just (seed, step). A checkpoint
// holds the head parameters and BN buffers, the AdamW state, the step and the
// seed (plus the run's shape: batch, samples, size, points, checked on resume);
// resuming gives bit-for-bit the run that was never interrupted.
// The step report's values: "positive", "negative" (the two loss terms).
#pragma once
#include <string>

#include "core/profile.h"
#include "cpr/train/settings.h"
#include "train/trainer.h"

namespace advad::cpr {

struct CprTrainResult : train::RunResult {
  size_t images = 0, synthetic = 0, anomalous = 0;  // training images, synthetic samples, of which with a defect
  bool foreground = false;      // FEB fitted and used for sampling
  std::string foreground_note;  // why not, when [cpr] foreground = on but the fit found none
};

// Throws ProfileError / InputError / ModelError naming the file, key or value at fault.
CprTrainResult run_cpr_training(const Profile& profile, const CprTrainSettings& settings,
                                const train::RunOptions& options);

}  // namespace advad::cpr
