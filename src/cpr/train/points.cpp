#include "cpr/train/points.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>
#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace advad::cpr {

namespace {

// Uniform double in [0, 1) and integer in [0, n) from the raw 64-bit stream
// (independent of the standard library's distribution implementations).
double u01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
size_t below(std::mt19937_64& rng, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// The first m entries of a uniformly random permutation of v (partial Fisher-Yates, in place).
void partial_shuffle(std::vector<int>& v, size_t m, std::mt19937_64& rng) {
  m = std::min(m, v.size());
  for (size_t i = 0; i < m; ++i) std::swap(v[i], v[i + below(rng, v.size() - i)]);
}

PointSet make_set(int n) {
  PointSet s;
  s.query = torch::full({n, 2}, -1.0f);  // pixel (0,0) -> -1, as the official zero padding
  s.ref = torch::full({n, 2}, -1.0f);
  s.weight = torch::zeros({n});
  return s;
}

void put(PointSet& s, int i, int qx, int qy, int rx, int ry, int size) {
  auto q = s.query.accessor<float, 2>();
  auto r = s.ref.accessor<float, 2>();
  q[i][0] = to_unit(qx, size);
  q[i][1] = to_unit(qy, size);
  r[i][0] = to_unit(rx, size);
  r[i][1] = to_unit(ry, size);
  s.weight.accessor<float, 1>()[i] = 1.0f;
}

}  // namespace

cv::Mat foreground_sampling_weight(const cv::Mat& feb_map, int size) {
  CV_Assert(feb_map.type() == CV_32F && !feb_map.empty());
  cv::Mat m;
  feb_map.convertTo(m, CV_64F);
  // scipy.ndimage.gaussian_filter(sigma = h/25): radius int(4 sigma + 0.5), mode 'reflect' (= BORDER_REFLECT).
  const double sigma = feb_map.rows / 25.0;
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  if (radius > 0) cv::GaussianBlur(m, m, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, cv::BORDER_REFLECT);
  // Sharpen: 1 / (1 + exp(5 - 10 x)).
  m.forEach<double>([](double& v, const int*) { v = 1.0 / (1.0 + std::exp(5.0 - 10.0 * v)); });
  cv::Mat out;
  cv::resize(m, out, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  out.convertTo(out, CV_32F);
  return out;
}

PairPoints sample_pair_points(const cv::Mat& mask, const cv::Mat& weight, const PointSamplerOptions& o,
                              std::mt19937_64& rng) {
  CV_Assert(mask.type() == CV_8U && mask.rows == mask.cols);
  CV_Assert(weight.empty() || (weight.type() == CV_32F && weight.size() == mask.size()));
  const int S = mask.rows, n = o.points;
  std::vector<int> normal, anomalous;  // flat indices y * S + x, row-major (np.where order)
  normal.reserve(static_cast<size_t>(S) * S);
  for (int y = 0; y < S; ++y) {
    const uchar* m = mask.ptr<uchar>(y);
    for (int x = 0; x < S; ++x) (m[x] ? anomalous : normal).push_back(y * S + x);
  }
  if (normal.empty()) throw InputError("CPR training: a synthetic sample's mask covers the whole image; no normal pixel to sample");

  // Positives: 2n candidates, weighted sampling without replacement. Exponential
  // keys E/w, smallest first, give the same distribution (and draw order) as
  // drawing one by one with probability proportional to w.
  const size_t want = std::min(normal.size(), static_cast<size_t>(2 * n));
  std::vector<std::pair<double, int>> keys(normal.size());
  for (size_t i = 0; i < normal.size(); ++i) {
    const int idx = normal[i];
    const double w = weight.empty() ? 1.0 : static_cast<double>(weight.ptr<float>(idx / S)[idx % S]);
    const double e = -std::log1p(-u01(rng));  // Exp(1)
    keys[i] = {w > 0 ? e / w : std::numeric_limits<double>::infinity(), idx};
  }
  std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(want), keys.end());
  std::vector<int> candidates(want);
  for (size_t i = 0; i < want; ++i) candidates[i] = keys[i].second;

  PairPoints out;
  out.positive = make_set(n);
  for (int i = 0; i < n && static_cast<size_t>(i) < candidates.size(); ++i) {
    const int x = candidates[i] % S, y = candidates[i] / S;
    put(out.positive, i, x, y, x, y, S);
  }

  // Anomalies: a random permutation of the anomalous pixels, the first n.
  out.anomaly = make_set(n);
  const size_t na = std::min(anomalous.size(), static_cast<size_t>(n));
  partial_shuffle(anomalous, na, rng);
  for (size_t i = 0; i < na; ++i) {
    const int x = anomalous[i] % S, y = anomalous[i] / S;
    put(out.anomaly, static_cast<int>(i), x, y, x, y, S);
  }

  // Far negatives: reference = the positive candidates, query = distinct uniformly random pixels.
  out.far = make_set(n);
  std::vector<int> all(static_cast<size_t>(S) * S);
  std::iota(all.begin(), all.end(), 0);
  partial_shuffle(all, candidates.size(), rng);
  int kept = 0;
  for (size_t i = 0; i < candidates.size() && kept < n; ++i) {
    const int rx = candidates[i] % S, ry = candidates[i] / S;
    const int qx = all[i] % S, qy = all[i] / S;
    const double d = std::hypot(static_cast<double>(qx - rx), static_cast<double>(qy - ry));
    if (d > o.far_distance) put(out.far, kept++, qx, qy, rx, ry, S);
  }
  if (!o.object) out.far.weight.zero_();
  return out;
}

}  // namespace advad::cpr
