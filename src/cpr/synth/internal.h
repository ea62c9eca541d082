// Internals of the pseudo-anomaly synthesis shared by the src/cpr/synth/*.cpp files and the
// tests. Inputs here are already at the synthesis size: image CV_8UC3 BGR
// size x size, foreground CV_32F size x size in [0, 1].
#pragma once
#include <random>
#include <opencv2/core.hpp>

#include "cpr/synth/synth.h"

namespace advad::cpr::synth_detail {

// Official CPR constants (generate_synthetic_data.py).
constexpr double kMinAreaRatio = 0.001;   // components below this fraction of the image are dropped
constexpr double kPerlinThreshold = 0.5;  // noise > this is the mask
constexpr int kPerlinMaxLog2 = 6;         // per-axis scale 2^u, u uniform in [0, 6)
constexpr int kStructureGrid = 16;        // structure source: 16 x 16 shuffled tiles
constexpr int kMaskAttempts = 50;         // redraws before the fallback blob
// Cut-paste (ISVL generate_synthesize_hand.py).
constexpr float kPasteCentreFg = 0.8f;    // patch centres sit on foreground >= this
constexpr float kPasteMaskFg = 0.45f;     // mask only where foreground > this

double uniform(std::mt19937_64& rng, double lo, double hi);
int uniform_int(std::mt19937_64& rng, int lo, int hi);  // inclusive

// Drops 8-connected components of a 0/1 (CV_8U) mask that have fewer than
// min_area pixels or no pixel with foreground > 0.5. Returns the kept count.
int filter_mask_components(cv::Mat& mask, const cv::Mat& foreground, double min_area);

// A 0/255 Perlin mask: noise, rotation in +-90 deg, threshold, component
// filter, redrawn until non-empty; after kMaskAttempts a filled ellipse on
// the foreground (or anywhere when there is none) so it always returns.
cv::Mat perlin_mask(int size, const cv::Mat& foreground, std::mt19937_64& rng);

// The "structure" source: 3 random photometric/geometric ops in random order,
// then 16 x 16 tiles shuffled (a remainder strip when 16 does not divide the
// side stays in place).
cv::Mat structure_source(const cv::Mat& image, std::mt19937_64& rng);

SynthSample synthesize_perlin(const cv::Mat& image, const cv::Mat& foreground, const SynthSettings& settings,
                              const SynthSources& sources, std::mt19937_64& rng);
SynthSample synthesize_cutpaste(const cv::Mat& image, const cv::Mat& foreground, const SynthSources& sources,
                                std::mt19937_64& rng);

}  // namespace advad::cpr::synth_detail
