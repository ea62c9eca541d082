// Training augmentations of the seed (ISVL isvl.py, categories can/fabric/rice),
// applied to an 8-bit RGB tile already resized to the model input:
//   1. with probability p one of three lighting changes, chosen uniformly:
//      jitter     whole-image brightness x U[0.5, 1.2] (torchvision ColorJitter)
//      regions    three rectangles with sides U{30..70} px (at 448 px input; scaled
//                 with the input width), each brightened x U[0.5, 1.5]
//      left/right left half x 1.5, right half x 0.7 (split at width / 2)
//   2. horizontal flip with probability 0.5;  3. vertical flip with probability 0.5.
// Brightness is PIL's ImageEnhance.Brightness: v' = min(255, floor(float(v) * float(f))).
// Randomness comes from a counter-based generator, so a sample's augmentation
// depends only on (seed, iteration, slot): resuming a run reproduces it exactly.
#pragma once
#include <cstdint>
#include <string>
#include <opencv2/core.hpp>

namespace advad::inpformer {

// splitmix64 stream; seeded from any list of 64-bit words.
class TrainRng {
 public:
  TrainRng(uint64_t a, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0);
  uint64_t next();
  double uniform(double lo, double hi);  // [lo, hi)
  int randint(int lo, int hi);           // [lo, hi], inclusive like Python's random.randint
  bool chance(double p);                 // true with probability p

 private:
  uint64_t state_;
};

struct AugmentSpec {
  bool hflip = false;
  bool vflip = false;
  bool lighting = false;
  double lighting_p = 0.5;
  double reference_width = 448;  // input width the seed's region sizes were written for
};

enum class Lighting { None, Jitter, Regions, LeftRight };
std::string to_string(Lighting l);

// PIL ImageEnhance.Brightness on an 8-bit ROI (any channel count), in place.
void brighten(cv::Mat roi, double factor);

// One lighting change of the given kind (the random draws come from rng).
void apply_lighting(cv::Mat& rgb, Lighting kind, TrainRng& rng, double reference_width = 448);

// The whole chain on an 8-bit RGB image, in place. Returns the lighting applied (for tests/logs).
Lighting augment(cv::Mat& rgb, const AugmentSpec& spec, TrainRng& rng);

}  // namespace advad::inpformer
