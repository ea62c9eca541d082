// CPR training run (official train.py recipe, spec cpr.md 9): only the two LRB
// heads are trained, the DenseNet trunk stays frozen in eval mode.
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
// seed (plus the run's shape, checked on resume); resuming gives bit-for-bit
// the run that was never interrupted.
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>
#include <opencv2/core.hpp>

#include "core/profile.h"
#include "cpr/train/settings.h"

namespace advad::cpr {

struct CprTrainStep {
  long step = 0, total = 0;  // step is 1-based (steps done so far)
  double loss = 0, positive = 0, negative = 0;
  double elapsed_s = 0, eta_s = 0;  // this call's training time so far, estimated time left
};

struct CprTrainOptions {
  std::string output;            // package folder; "" = the profile's model path
  std::string checkpoint;        // checkpoint file; "" = <output>/checkpoint.pth
  bool resume = false;           // continue from the checkpoint (ModelError when there is none)
  bool keep_checkpoint = false;  // otherwise it is deleted once the package is written
  std::string device = "cpu";    // auto | cpu | cuda | cuda:N
  long stop_after = 0;           // > 0: stop after this many steps with a checkpoint and no package
  // Preparation stages ("read images", "features", "synthesis", "package") with (done, total).
  std::function<void(const std::string&, int64_t, int64_t)> on_stage;
  std::function<void(const CprTrainStep&)> on_step;  // after every step
};

struct CprTrainResult {
  std::string package_profile;  // profile.ini of the written package; "" when stopped early
  std::string checkpoint;       // the last checkpoint left on disk ("" if none)
  long steps_done = 0, total_steps = 0, start_step = 0;
  size_t images = 0, synthetic = 0, anomalous = 0;  // training images, synthetic samples, of which with a defect
  bool foreground = false;      // FEB fitted and used for sampling
  std::string foreground_note;  // why not, when [cpr] foreground = on but the fit found none
  std::vector<double> losses;   // total loss of every step run by this call
  double seconds_per_step = 0;  // mean over this call's steps
};

// Throws ProfileError / InputError / ModelError naming the file, key or value at fault.
CprTrainResult run_cpr_training(const Profile& profile, const CprTrainSettings& settings, const CprTrainOptions& options);

// The official augmentation of one BGR uint8 image, in place: with p 0.3
// salt-and-pepper noise (SNR ~ U(0.97, 1): each pixel becomes white or black
// with probability (1-SNR)/2 each, all channels), then with p 0.3 the HLS
// lightness scaled by 1 + U(-0.1, 0.1) (clipped, truncated to uint8).
void cpr_augment(cv::Mat& bgr, std::mt19937_64& rng);

// A generator for (seed, stream, a, b): independent streams for every use.
std::mt19937_64 cpr_train_rng(uint64_t seed, uint64_t stream, uint64_t a = 0, uint64_t b = 0);

}  // namespace advad::cpr
