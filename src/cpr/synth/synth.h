// Pseudo-anomalies for CPR training: a synthetic defect on a copy of a
// defect-free image plus its mask.
//   perlin:   official CPR (generate_synthetic_data.py): Perlin-noise mask
//             (scale 2^[0,6) per axis, rotated +-90 deg, threshold 0.5,
//             components < 0.1 % area or off the foreground dropped), filled
//             with a texture image (textures folder, e.g. DTD) or, for objects
//             with p 0.5 / when no textures are given, the image itself after 3
//             random photometric ops cut into 16x16 shuffled tiles;
//             beta ~ U(0.5,1) blend; p(1 - anomaly_ratio) the sample stays normal.
//   cutpaste: the ISVL seed (generate_synthesize_hand.py): one RGBA defect
//             patch from a library sub-folder, scaled by U(lo,hi) of that
//             sub-folder, rotated 0-360 deg (nearest, canvas expanded),
//             centred on a pixel with foreground >= 0.8, blended by
//             alpha x soft foreground; mask = alpha x (foreground > 0.45).
//   both:     either, p 0.5 each.
#pragma once
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>
#include <opencv2/core.hpp>

#include "core/profile.h"

namespace advad::cpr {

enum class SynthMode { Perlin, CutPaste, Both };

struct SynthSettings {
  SynthMode mode = SynthMode::Perlin;
  int size = 640;               // synthesis side (square); the image is resized to it (bicubic)
  double anomaly_ratio = 0.9;   // perlin: probability that a sample gets a defect
  bool object = true;           // object category (structure source allowed, foreground used)
  std::string textures;         // absolute folder of texture images, "" = none
  std::string defects;          // absolute defect-library folder (sub-folders of patches), "" = none
  std::map<std::string, std::pair<double, double>> defect_scales;  // sub-folder -> scale range
  std::pair<double, double> default_scale{0.1, 1.0};              // sub-folders not listed
};

// Keys of [train] that belong to synthesis: synth, synth_size, anomaly_ratio,
// textures, defects, defect_scales (e.g. "hair:0.05-0.2,screw:0.05-0.1").
const std::vector<std::string>& synth_setting_keys();

// From profile.method_groups["train"] with overrides on top; settings.object
// from [cpr] foreground. Relative folders: a profile value against the profile's
// folder, an override (command line) against the working directory.
// ProfileError naming file, [train], key, bad value and what is accepted
// (cutpaste/both without defects is an error).
SynthSettings parse_synth_settings(const Profile& profile, const std::map<std::string, std::string>& overrides = {});

struct DefectPatch {
  cv::Mat bgra;  // CV_8UC4; alpha from the PNG, or from a <stem>_mask.png beside an RGB patch
};
struct DefectLibrary {
  std::string name;  // sub-folder name
  std::vector<DefectPatch> patches;
  std::pair<double, double> scale;
};
struct SynthSources {
  std::vector<cv::Mat> textures;          // BGR uint8
  std::vector<DefectLibrary> libraries;   // non-empty sub-folders only
};

// Reads the textures and defect libraries the settings name. InputError naming
// the folder/file when a folder is missing, empty, or a file unreadable.
SynthSources load_synth_sources(const SynthSettings& settings);

struct SynthSample {
  cv::Mat image;  // CV_8UC3 BGR, size x size
  cv::Mat mask;   // CV_8U, 0 or 255, size x size (all 0 for a normal sample)
};

// image: BGR uint8, any size. foreground: CV_32F in [0,1], any size (resized
// here), or empty = all 1 (textures). Deterministic given rng's state.
SynthSample synthesize(const cv::Mat& image, const cv::Mat& foreground, const SynthSettings& settings,
                       const SynthSources& sources, std::mt19937_64& rng);

}  // namespace advad::cpr
