// The [train] group of a CPR profile: what the LRB heads are trained on and how
// (official train.py / dataset/base.py recipe; defaults are the ISVL seed's).
//
//   data              category folder with train/good (MVTec AD 2 / AD layout), or a folder of
//                     defect-free images; relative to the profile
//   backbone_weights  torchvision densenet201-*.pth (features.*), relative to the profile; or
//                     `random`: a frozen randomly initialised trunk (tests, demos)
//   init              optional official CPR checkpoint (weights/<cat>.pth) the heads start from;
//                     its backbone keys, when present, replace backbone_weights
//   size              network input side, a multiple of 8 >= 32            [320]
//   steps             optimisation steps (iterations)                       [2000]
//   batch             (query, reference) pairs per step                     [8]
//   lr, weight_decay  AdamW (betas 0.9/0.999, eps 1e-8), constant lr       [1e-3, 1e-2]
//   seed              initialisation, synthesis, sampling, augmentation    [66]
//   k                 a query's reference is one of its base image's k GRB neighbours [10]
//   points            positives / far negatives / anomaly points per pair  [300]
//   augment           salt-and-pepper (p 0.3, SNR U(0.97,1)) and HLS lightness x(1 +- U(0,0.1))
//                     (p 0.3) on query and reference: true | false         [true]
//   synth_per_image   synthetic samples pre-generated per training image  [6]
//   checkpoint_every  checkpoint every N steps, 0 = never                  [500]
//   plus the synthesis keys of cpr/synth/synth.h (synth, synth_size, anomaly_ratio, textures, defects,
//   defect_scales), validated by parse_synth_settings.
// Paths (data, backbone_weights, init, textures, defects): relative ones in the profile
// resolve against the profile's folder, those given on the command line against the
// working directory (core/profile_reader.h).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/profile.h"
#include "cpr/synth/synth.h"

namespace advad::cpr {

struct CprTrainSettings {
  std::string data;              // absolute folder
  std::string backbone_weights;  // absolute path, or "random"
  std::string init;              // absolute path or ""
  int size = 320;
  long steps = 2000;
  int batch = 8;
  double lr = 1e-3;
  double weight_decay = 1e-2;
  uint64_t seed = 66;
  int k = 10;
  int points = 300;
  bool augment = true;
  int synth_per_image = 6;
  long checkpoint_every = 500;
  SynthSettings synth;
};
// Every key [train] accepts: the own keys, then synth_setting_keys().
std::vector<std::string> cpr_train_keys();

// Parse profile.method_groups["train"] with `overrides` (key -> value, from the
// command line) on top. ProfileError naming the file, [train] (or the
// command-line flag), the key, the bad value and what is accepted.
CprTrainSettings parse_cpr_train_settings(const Profile& profile,
                                          const std::map<std::string, std::string>& overrides = {});

// The folder that holds the training images: <data>/train/good when it exists, else <data>.
std::string cpr_training_folder(const std::string& data);

}  // namespace advad::cpr
