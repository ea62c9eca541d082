#include "inpformer/train_augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>

#include "core/error.h"
#include "train/rng.h"

namespace advad::inpformer {

TrainRng::TrainRng(uint64_t a, uint64_t b, uint64_t c, uint64_t d) : state_(0x243F6A8885A308D3ull) {
  // Fold the words in one by one so (1,2) and (2,1) give different streams.
  for (uint64_t w : {a, b, c, d}) {
    state_ ^= w;
    state_ = train::splitmix64(state_);
  }
}

uint64_t TrainRng::next() { return train::splitmix64(state_); }

double TrainRng::uniform(double lo, double hi) {
  const double u = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);  // 53 bits in [0,1)
  return lo + (hi - lo) * u;
}

int TrainRng::randint(int lo, int hi) {
  if (hi < lo) throw Error("TrainRng::randint: empty range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  const uint64_t n = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int>(next() % n);  // the modulo bias is below 1e-17 for these ranges
}

bool TrainRng::chance(double p) { return uniform(0.0, 1.0) < p; }

std::string to_string(Lighting l) {
  switch (l) {
    case Lighting::Jitter: return "jitter";
    case Lighting::Regions: return "regions";
    case Lighting::LeftRight: return "left-right";
    default: return "none";
  }
}

void brighten(cv::Mat roi, double factor) {
  if (roi.depth() != CV_8U) throw InputError("brighten: needs an 8-bit image");
  const float f = static_cast<float>(factor);  // PIL blends in single precision
  const int n = roi.cols * roi.channels();
  for (int y = 0; y < roi.rows; ++y) {
    uint8_t* p = roi.ptr<uint8_t>(y);
    for (int x = 0; x < n; ++x) {
      const float v = static_cast<float>(p[x]) * f;
      p[x] = v >= 255.0f ? 255 : static_cast<uint8_t>(v);  // truncation, as PIL
    }
  }
}

void apply_lighting(cv::Mat& rgb, Lighting kind, TrainRng& rng, double reference_width) {
  const int W = rgb.cols, H = rgb.rows;
  switch (kind) {
    case Lighting::Jitter:
      brighten(rgb, rng.uniform(0.5, 1.2));
      break;
    case Lighting::Regions: {
      const double s = reference_width > 0 ? W / reference_width : 1.0;
      const int lo = std::max(1, static_cast<int>(std::lround(30 * s)));
      const int hi = std::max(lo, static_cast<int>(std::lround(70 * s)));
      for (int i = 0; i < 3; ++i) {
        const int rw = std::min(W, rng.randint(lo, hi)), rh = std::min(H, rng.randint(lo, hi));
        const int left = rng.randint(0, W - rw), top = rng.randint(0, H - rh);
        brighten(rgb(cv::Rect(left, top, rw, rh)), rng.uniform(0.5, 1.5));
      }
      break;
    }
    case Lighting::LeftRight: {
      const int mid = W / 2;
      if (mid > 0) brighten(rgb(cv::Rect(0, 0, mid, H)), 1.5);
      brighten(rgb(cv::Rect(mid, 0, W - mid, H)), 0.7);
      break;
    }
    default:
      break;
  }
}

Lighting augment(cv::Mat& rgb, const AugmentSpec& spec, TrainRng& rng) {
  Lighting applied = Lighting::None;
  if (spec.lighting && rng.chance(spec.lighting_p)) {
    applied = static_cast<Lighting>(1 + rng.randint(0, 2));
    apply_lighting(rgb, applied, rng, spec.reference_width);
  }
  if (spec.hflip && rng.chance(0.5)) cv::flip(rgb, rgb, 1);
  if (spec.vflip && rng.chance(0.5)) cv::flip(rgb, rgb, 0);
  return applied;
}

}  // namespace advad::inpformer
