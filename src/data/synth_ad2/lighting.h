// Lighting changes of the synthetic MVTec AD 2: the named test_public
// conditions and the random seen/unseen lighting of test_private_mixed.
#pragma once
#include <opencv2/core.hpp>
#include <string>

#include "data/synth_ad2/draw.h"

namespace advad::synth_ad2 {

struct Lighting {
  cv::Vec3d gain{1, 1, 1};  // per RGB channel; gray images use their mean
  double offset = 0;        // added gray levels
  double gradient = 0;      // extra light rising from 0 to this across the image
  double angle = 0;         // direction of that rise, radians
};

// "regular", "overexposed", "underexposed", "shift_N" (N >= 1: an extra light
// from its own direction, with a warm or cool cast).
Lighting named_lighting(const std::string& condition);
// A random lighting for test_private_mixed: a seen condition with a random
// strength, or an unseen one (strong colour cast, strong gradient). Each
// changes the mean brightness or a channel's mean by at least ~10 levels.
Lighting mixed_lighting(Rng& rng, int shifts);
cv::Mat apply_lighting(const cv::Mat& img, const Lighting& l);

}  // namespace advad::synth_ad2
