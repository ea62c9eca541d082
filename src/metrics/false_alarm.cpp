#include "metrics/false_alarm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "core/error.h"
#include "core/postproc.h"

namespace advad {

namespace {

constexpr double kNever = -std::numeric_limits<double>::infinity();

// Sorted distinct finite values of a CV_32F map.
std::vector<float> distinct_values(const cv::Mat& m) {
  std::vector<float> v;
  v.reserve(m.total());
  for (int y = 0; y < m.rows; ++y) {
    const float* p = m.ptr<float>(y);
    for (int x = 0; x < m.cols; ++x) {
      if (!std::isfinite(p[x])) throw ModelError("false-alarm calibration needs finite maps; the model produced NaN/Inf");
      v.push_back(p[x]);
    }
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Largest value v of the map at which flagged(v) holds, assuming flagged is
// true up to some value and false above it (monotone); kNever when it never
// holds. The mask at any t in (v[i-1], v[i]] equals the mask at v[i], so the
// distinct values are the only thresholds to try.
template <typename Flagged>
double largest_flagged(const cv::Mat& map, const PostprocSpec& spec, Flagged flagged) {
  if (map.empty() || map.type() != CV_32FC1) throw InputError("critical threshold: map must be a non-empty CV_32F image");
  // Blur once here and not again in each postprocess call: the same result, 20x cheaper.
  cv::Mat m;
  if (spec.blur_ksize > 0) cv::GaussianBlur(map, m, cv::Size(spec.blur_ksize, spec.blur_ksize), spec.blur_sigma);
  else m = map;
  PostprocSpec no_blur = spec;
  no_blur.blur_ksize = 0;
  const std::vector<float> v = distinct_values(m);
  // Invariant: flagged at v[lo] (or lo = -1), not flagged at v[hi] (or hi = size).
  long lo = -1, hi = static_cast<long>(v.size());
  while (hi - lo > 1) {
    const long mid = lo + (hi - lo) / 2;
    if (flagged(m, no_blur, static_cast<double>(v[static_cast<size_t>(mid)]))) lo = mid;
    else hi = mid;
  }
  return lo < 0 ? kNever : static_cast<double>(v[static_cast<size_t>(lo)]);
}

}  // namespace

double critical_threshold(const cv::Mat& map, const PostprocSpec& spec, const cv::Mat& frame_rgb) {
  return largest_flagged(map, spec, [&](const cv::Mat& m, const PostprocSpec& s, double t) {
    return postprocess(m, 0.f, t, s, frame_rgb).anomalous;
  });
}

double critical_threshold_found(const cv::Mat& map, const cv::Mat& defect, const PostprocSpec& spec,
                                const cv::Mat& frame_rgb) {
  if (defect.size() != map.size() || defect.type() != CV_8UC1)
    throw InputError("critical threshold: the defect mask must be CV_8U and the map's size");
  return largest_flagged(map, spec, [&](const cv::Mat& m, const PostprocSpec& s, double t) {
    const Detection d = postprocess(m, 0.f, t, s, frame_rgb);
    return d.anomalous && cv::countNonZero(d.mask & defect) > 0;
  });
}

BudgetThreshold budget_threshold(std::vector<double> criticals, double false_alarms) {
  if (!(false_alarms >= 0 && false_alarms < 1))
    throw InputError("false-alarm budget must be in [0, 1), got " + std::to_string(false_alarms));
  if (criticals.empty()) throw InputError("false-alarm budget: no calibration image");
  BudgetThreshold b;
  b.n = static_cast<int>(criticals.size());
  // P < 1, so allowed < n.
  const int allowed = static_cast<int>(std::floor(false_alarms * b.n + 1e-9));
  std::sort(criticals.begin(), criticals.end(), std::greater<double>());
  const double c = criticals[static_cast<size_t>(allowed)];
  if (c != kNever) {
    // Flagged at t: the images with critical >= t. Just above the (allowed+1)-th
    // largest critical value at most `allowed` are (fewer on ties).
    // The next float: maps are float and the chain compares in float.
    b.threshold = std::nextafter(static_cast<float>(c), std::numeric_limits<float>::infinity());
  } else {
    // At most `allowed` images can be flagged at all: any threshold keeps the
    // budget; take the lowest at which they still are.
    if (criticals.front() == kNever)
      throw InputError("no threshold makes the post-processing report a defect on any calibration image; check "
                       "[postproc] (min_area, erosion, the hole-fill fallback)");
    b.threshold = *std::min_element(criticals.begin(), criticals.end(),
                                    [](double x, double y) { return (x == kNever ? HUGE_VAL : x) < (y == kNever ? HUGE_VAL : y); });
  }
  for (double x : criticals) b.flagged += (x != kNever && x >= b.threshold) ? 1 : 0;
  b.upper95 = clopper_pearson_upper(b.flagged, b.n);
  b.supported = clopper_pearson_upper(0, b.n) <= false_alarms;
  return b;
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // Continued fraction (modified Lentz), on the side where it converges fast.
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                                b * std::log1p(-x)) / a;
  const double tiny = 1e-300;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i <= 400; ++i) {
    const int m = i / 2;
    double num;
    if (i == 0) num = 1;
    else if (i % 2 == 0) num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (std::fabs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num / c;
    if (std::fabs(c) < tiny) c = tiny;
    const double cd = c * d;
    f *= cd;
    if (std::fabs(1 - cd) < 1e-15) break;
  }
  return front * (f - 1);
}

double clopper_pearson_upper(int x, int n, double confidence) {
  if (n <= 0 || x < 0 || x > n) throw InputError("Clopper-Pearson bound: need 0 <= x <= n, n > 0");
  if (x == n) return 1;
  // P(X <= x | p) = 1 - I_p(x + 1, n - x) is decreasing in p: bisect for 1 - confidence.
  double lo = 0, hi = 1;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (1 - incomplete_beta(x + 1, n - x, mid) > 1 - confidence) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace advad
