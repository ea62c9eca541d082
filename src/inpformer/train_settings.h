// The [train] group of an INP-Former profile: what to train on and how.
// Every key is optional except data and encoder_weights; defaults are the
// seed's (ISVL) settings, which equal the official INP-Former recipe except
// for the data (tiles) and the augmentations.
//
//   data             category folder with train/good (MVTec AD 2 / AD layout), or a folder of
//                    defect-free images; relative to the profile
//   encoder_weights  DINOv2 file (dinov2_vit{s,b,l}14_reg4_pretrain.pth, loaded as is) or an official
//                    INP-Former model.pth (its encoder is used), relative to the profile; or `random`:
//                    a frozen randomly initialised encoder (tests, demos) whose architecture comes
//                    from [inpformer] (encoder = vit_small|vit_base|vit_large, or custom with
//                    embed_dim, depth, heads and taps)
//   grids            tile grids COLSxROWS, ',' or ';' separated, e.g. 2x2,4x4   [none]
//   full_image       also train on the whole image: true | false               [true]
//   batch            images per step (the last incomplete batch of an epoch is dropped) [16]
//   epochs           passes over the tiles [10]; iterations = steps, overrides epochs when given
//   lr, lr_final     peak and final learning rate [1e-3, 1e-4]; warmup: linear warm-up steps [100]
//   weight_decay     StableAdamW decoupled weight decay [1e-4]
//   clip             global gradient-norm limit [0.1]
//   seed             seeds initialisation, shuffling and augmentation [1]
//   hflip, vflip     random flips, p = 0.5: true | false [false]
//   lighting         the seed's random lighting change, p = 0.5: true | false [false]
//   checkpoint_every write a checkpoint every N steps, 0 = never [500]
//   cache_mb         memory for resized tiles, beyond it tiles are re-read [4096]
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/profile.h"
#include "inpformer/inpformer_package.h"
#include "io/state_dict.h"

namespace advad::inpformer {

struct TrainSettings {
  std::string data;
  std::string encoder_weights;  // absolute path, or "random"
  std::vector<GridLevel> grids;
  bool full_image = true;
  int batch = 16;
  int epochs = 10;
  long iterations = 0;  // > 0: overrides epochs
  double lr = 1e-3, lr_final = 1e-4;
  long warmup = 100;
  double weight_decay = 1e-4;
  double clip = 0.1;
  uint64_t seed = 1;
  bool hflip = false, vflip = false, lighting = false;
  long checkpoint_every = 500;
  long cache_mb = 4096;
};

// All keys of [train], in the order --help lists them.
const std::vector<std::string>& train_keys();

// Parse profile.method_groups["train"] with `overrides` (key -> value, from the
// command line) applied on top. ProfileError naming the file, [train], the key
// (or the command-line flag) and the accepted values.
TrainSettings parse_train_settings(const Profile& profile, const std::map<std::string, std::string>& overrides = {});

// The network to train: architecture and map settings from the profile's
// [inpformer] group, checked against the encoder weights (when not random).
// `encoder_sd` receives the loaded weights (empty for random). ModelError
// naming the file when it cannot be read or holds neither DINOv2 nor INP-Former keys.
InpFormerSpec training_spec(const Profile& profile, const TrainSettings& s, StateDict* encoder_sd);

}  // namespace advad::inpformer
