#include "metrics/pixel_rules.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/half.h"

namespace advad {

void ScoreHist::add(const cv::Mat& map, const cv::Mat& mask, bool stats) {
  for (int y = 0; y < map.rows; ++y) {
    const float* s = map.ptr<float>(y);
    const uint8_t* m = mask.empty() ? nullptr : mask.ptr<uint8_t>(y);
    for (int x = 0; x < map.cols; ++x) {
      if (std::isnan(s[x])) throw ModelError("the model produced NaN scores; calibration needs finite maps");
      const uint16_t k = half_order_key(float_to_half(s[x]));
      if (m && m[x]) {
        ++pos[k];
        ++n_pos;
      } else {
        ++neg[k];
        ++n_neg;
        if (stats) {
          sum += s[x];
          sum_sq += static_cast<double>(s[x]) * s[x];
        }
      }
    }
  }
}

double score_of_bin(int bin) { return half_to_float(half_from_order_key(static_cast<uint16_t>(bin))); }

AtThreshold evaluate_at(const ScoreHist& h, double t) {
  uint64_t fp = 0, tp = 0;
  for (int k = 0; k < 65536; ++k)
    if (score_of_bin(k) >= t) {
      fp += h.neg[k];
      tp += h.pos[k];
    }
  AtThreshold r;
  r.fpr = h.n_neg ? static_cast<double>(fp) / h.n_neg : 0;
  const double d = 2.0 * tp + fp + (h.n_pos - tp);
  r.f1 = d > 0 ? 2.0 * tp / d : 0;
  return r;
}

double mean_std_threshold(const ScoreHist& h, double k) {
  const double mean = h.sum / h.n_neg;
  return mean + k * std::sqrt(std::max(0.0, h.sum_sq / h.n_neg - mean * mean));
}

double percentile_threshold(const ScoreHist& h, double pct) {
  const double want = pct / 100.0 * h.n_neg;
  uint64_t cum = 0;
  for (int k = 0; k < 65536; ++k) {
    cum += h.neg[k];
    if (h.neg[k] && cum >= want) return score_of_bin(k);
  }
  return score_of_bin(65535);
}

double max_f1_threshold(const ScoreHist& h) {
  double t = score_of_bin(65535), best = -1;
  uint64_t tp = 0, fp = 0;
  for (int k = 65535; k >= 0; --k) {
    if (!h.neg[k] && !h.pos[k]) continue;
    tp += h.pos[k];
    fp += h.neg[k];
    const double f1 = 2.0 * tp / (2.0 * tp + fp + (h.n_pos - tp));
    if (f1 > best) {
      best = f1;
      t = score_of_bin(k);
    }
  }
  return t;
}

}  // namespace advad
