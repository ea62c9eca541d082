#include "metrics/pixel_metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "data/half.h"
#include "metrics/regions.h"
#include "metrics/trapezoid.h"

namespace advad {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string where(const std::string& name) { return name.empty() ? "an anomaly map" : "anomaly map " + name; }

void check_sizes(const cv::Mat& map, const cv::Mat& gt, const std::string& name) {
  if (map.empty()) throw InputError(where(name) + " is empty");
  if (!gt.empty() && gt.size() != map.size())
    throw InputError(where(name) + " is " + std::to_string(map.cols) + "x" + std::to_string(map.rows) +
                     " but its ground truth is " + std::to_string(gt.cols) + "x" + std::to_string(gt.rows) +
                     "; maps must have the original image size");
  if (!gt.empty() && gt.type() != CV_8UC1) throw InputError("the ground truth of " + where(name) + " must be 8-bit single-channel");
}

[[noreturn]] void nan_error(const std::string& name, int x, int y) {
  throw InputError(where(name) + " holds NaN at pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                   "); fix the model output (NaN has no place in the ranking of scores)");
}

// One group of equal scores, in descending score order.
struct Group {
  uint64_t normal = 0, defect = 0;
  double overlap = 0.0;  // sum of 1/|region| of the group's defect pixels
};

// Turns the descending groups into the reference's PRO points, the AU-PRO
// integrals and the pixel AUROC (Mann-Whitney with ties counted half).
class Sweep {
 public:
  Sweep(const PixelOptions& o, uint64_t normal, uint64_t defect, uint64_t regions)
      : opt_(o), n_ok_(normal), n_def_(defect), n_reg_(regions) {
    for (double l : o.limits) integ_.emplace_back(l);
    point(0.0, 0.0);
  }
  void group(const Group& g) {
    cum_fp_ += g.normal;
    cum_ov_ += g.overlap;
    auc_ += static_cast<double>(g.defect) * (static_cast<double>(n_ok_ - cum_fp_) + 0.5 * static_cast<double>(g.normal));
    ++distinct_;
    // FPR in float32 as the reference (uint32 cumsum cast to float32, divided in float32).
    const float fpr32 = static_cast<float>(cum_fp_) / static_cast<float>(n_ok_);
    const double pro = cum_ov_ / static_cast<double>(n_reg_);
    point(std::min(1.0, static_cast<double>(fpr32)), std::min(1.0, pro));
  }
  PixelMetrics finish() {
    point(1.0, 1.0);
    PixelMetrics m;
    m.normal_pixels = n_ok_;
    m.defect_pixels = n_def_;
    m.regions = n_reg_;
    m.distinct_scores = distinct_;
    for (auto& c : integ_)
      m.au_pro.emplace_back(c.x_max(), n_reg_ == 0 || n_ok_ == 0 ? kNaN : c.area() / c.x_max());
    m.pixel_auroc = (n_ok_ == 0 || n_def_ == 0) ? kNaN : auc_ / (static_cast<double>(n_ok_) * static_cast<double>(n_def_));
    m.plot_curve = std::move(plot_);
    m.full_curve = std::move(full_);
    return m;
  }

 private:
  void point(double x, double y) {
    for (auto& c : integ_) c.push(x, y);
    if (opt_.keep_full_curve) {
      full_.fpr.push_back(x);
      full_.pro.push_back(y);
    }
    // Thin the plotted curve: keep steps of >= 1/4000 of the axis range, and the first point past the limit.
    if (plot_done_) return;
    const bool first = plot_.fpr.empty();
    if (first || x > opt_.plot_limit || x - plot_.fpr.back() >= opt_.plot_limit / 4000.0 ||
        y - plot_.pro.back() >= 1.0 / 4000.0) {
      plot_.fpr.push_back(x);
      plot_.pro.push_back(y);
      if (x > opt_.plot_limit) plot_done_ = true;
    }
  }
  const PixelOptions& opt_;
  uint64_t n_ok_, n_def_, n_reg_;
  uint64_t cum_fp_ = 0, distinct_ = 0;
  double cum_ov_ = 0.0, auc_ = 0.0;
  std::vector<CurveIntegrator> integ_;
  CurvePoints plot_, full_;
  bool plot_done_ = false;
};

}  // namespace

std::string to_string(PixelMode m) { return m == PixelMode::Exact ? "exact" : "float16"; }

PixelMode parse_pixel_mode(const std::string& s) {
  if (s == "exact") return PixelMode::Exact;
  if (s == "float16" || s == "streaming") return PixelMode::Float16;
  throw InputError("bad pixel-metric mode '" + s + "'; accepted: exact | float16");
}

double PixelMetrics::au_pro_at(double limit) const {
  for (const auto& [l, v] : au_pro)
    if (l == limit) return v;
  return kNaN;
}

struct PixelAccumulator::Exact {
  struct DefectPixel {
    float score;
    uint32_t region_size;
  };
  std::vector<float> normal;
  std::vector<DefectPixel> defect;
};

struct PixelAccumulator::Hist {
  std::vector<uint64_t> normal = std::vector<uint64_t>(65536, 0);
  std::vector<uint64_t> defect = std::vector<uint64_t>(65536, 0);
  std::vector<double> overlap = std::vector<double>(65536, 0.0);
};

PixelAccumulator::PixelAccumulator(PixelOptions options) : options_(std::move(options)) {
  for (double l : options_.limits)
    if (!(l > 0.0 && l <= 1.0)) throw InputError("AU-PRO integration limit " + std::to_string(l) + " is outside (0, 1]");
  if (options_.mode == PixelMode::Exact)
    exact_ = std::make_unique<Exact>();
  else
    hist_ = std::make_unique<Hist>();
}
PixelAccumulator::~PixelAccumulator() = default;
PixelAccumulator::PixelAccumulator(PixelAccumulator&&) noexcept = default;
PixelAccumulator& PixelAccumulator::operator=(PixelAccumulator&&) noexcept = default;

size_t PixelAccumulator::bytes_held() const {
  if (exact_) return exact_->normal.capacity() * sizeof(float) + exact_->defect.capacity() * sizeof(Exact::DefectPixel);
  return 65536 * (2 * sizeof(uint64_t) + sizeof(double));
}

void PixelAccumulator::add(const cv::Mat& map, const cv::Mat& gt, const std::string& name) {
  check_sizes(map, gt, name);
  if (map.type() != CV_32FC1) throw InputError(where(name) + " must be single-channel float32");
  GtRegions r = gt.empty() ? GtRegions{} : label_regions(gt);
  regions_ += static_cast<uint64_t>(std::max(0, r.count()));
  for (int y = 0; y < map.rows; ++y) {
    const float* s = map.ptr<float>(y);
    const int* lab = gt.empty() ? nullptr : r.labels.ptr<int>(y);
    if (exact_) {
      for (int x = 0; x < map.cols; ++x) {
        if (std::isnan(s[x])) nan_error(name, x, y);
        const int k = lab ? lab[x] : 0;
        if (k == 0)
          exact_->normal.push_back(s[x]);
        else
          exact_->defect.push_back({s[x], static_cast<uint32_t>(r.sizes[static_cast<size_t>(k)])});
      }
    } else {
      for (int x = 0; x < map.cols; ++x) {
        const uint16_t h = float_to_half(s[x]);
        if (is_half_nan(h)) nan_error(name, x, y);
        const uint16_t key = half_order_key(h);
        const int k = lab ? lab[x] : 0;
        if (k == 0) {
          ++hist_->normal[key];
        } else {
          ++hist_->defect[key];
          hist_->overlap[key] += 1.0 / static_cast<double>(r.sizes[static_cast<size_t>(k)]);
        }
      }
    }
  }
}

void PixelAccumulator::add_half(const cv::Mat& bits, const cv::Mat& gt, const std::string& name) {
  check_sizes(bits, gt, name);
  if (bits.type() != CV_16UC1) throw InputError(where(name) + ": float16 bits must be CV_16UC1");
  if (exact_) {  // exact mode keeps floats; float16 -> float32 is exact
    add(from_half_bits(bits), gt, name);
    return;
  }
  GtRegions r = gt.empty() ? GtRegions{} : label_regions(gt);
  regions_ += static_cast<uint64_t>(std::max(0, r.count()));
  for (int y = 0; y < bits.rows; ++y) {
    const uint16_t* s = bits.ptr<uint16_t>(y);
    const int* lab = gt.empty() ? nullptr : r.labels.ptr<int>(y);
    for (int x = 0; x < bits.cols; ++x) {
      if (is_half_nan(s[x])) nan_error(name, x, y);
      const uint16_t key = half_order_key(s[x]);
      const int k = lab ? lab[x] : 0;
      if (k == 0) {
        ++hist_->normal[key];
      } else {
        ++hist_->defect[key];
        hist_->overlap[key] += 1.0 / static_cast<double>(r.sizes[static_cast<size_t>(k)]);
      }
    }
  }
}

PixelMetrics PixelAccumulator::finish() {
  if (hist_) {
    uint64_t n_ok = 0, n_def = 0;
    for (int k = 0; k < 65536; ++k) {
      n_ok += hist_->normal[k];
      n_def += hist_->defect[k];
    }
    Sweep sw(options_, n_ok, n_def, regions_);
    for (int k = 65535; k >= 0; --k)
      if (hist_->normal[k] || hist_->defect[k]) sw.group({hist_->normal[k], hist_->defect[k], hist_->overlap[k]});
    return sw.finish();
  }
  // Exact: sort in place; equal scores are adjacent afterwards.
  std::vector<float>& normal = exact_->normal;
  std::vector<Exact::DefectPixel>& defect = exact_->defect;
  std::sort(normal.begin(), normal.end(), std::greater<float>());
  std::sort(defect.begin(), defect.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
  Sweep sw(options_, normal.size(), defect.size(), regions_);
  size_t i = 0, j = 0;
  while (i < normal.size() || j < defect.size()) {
    float s;
    if (i == normal.size())
      s = defect[j].score;
    else if (j == defect.size())
      s = normal[i];
    else
      s = std::max(normal[i], defect[j].score);
    Group g;
    while (i < normal.size() && normal[i] == s) {
      ++g.normal;
      ++i;
    }
    while (j < defect.size() && defect[j].score == s) {
      ++g.defect;
      g.overlap += 1.0 / static_cast<double>(defect[j].region_size);
      ++j;
    }
    sw.group(g);
  }
  return sw.finish();
}

}  // namespace advad
