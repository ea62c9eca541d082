#include "metrics/threshold_sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/postproc.h"
#include "data/half.h"
#include "data/image_io.h"
#include "metrics/plot_text.h"

namespace advad {
namespace {

bool is_good(const ChainImage& im) { return im.gt.empty() || cv::countNonZero(im.gt) == 0; }

// The chain at t; images whose critical threshold is below t yield an empty mask without running it.
ChainPoint evaluate_with(const std::vector<ChainImage>& images, const std::vector<double>& critical,
                         const PostprocSpec& spec, double t) {
  BinaryAccumulator acc;
  ChainPoint p;
  p.threshold = t;
  for (size_t i = 0; i < images.size(); ++i) {
    const ChainImage& im = images[i];
    cv::Mat pred = critical[i] >= t ? postprocess(im.map, 0.f, t, spec, im.frame).mask
                                    : cv::Mat::zeros(im.map.size(), CV_8UC1);
    acc.add(pred, im.gt);
    if (is_good(im)) {
      ++p.good;
      p.good_flagged += acc.predicted_anomalous().back() ? 1 : 0;
    }
  }
  p.seg = acc.pixels();
  p.cls = acc.images();
  return p;
}

std::vector<double> criticals(const std::vector<ChainImage>& images, const PostprocSpec& spec) {
  std::vector<double> c;
  c.reserve(images.size());
  for (const auto& im : images) c.push_back(critical_threshold(im.map, spec, im.frame));
  return c;
}

void check_no_blur(const PostprocSpec& spec) {
  if (spec.blur_ksize > 0) throw InputError("threshold sweep: pass blurred maps and a spec without blur");
}

std::string fmt(double v, int prec) {
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", prec, v);
  return b;
}

}  // namespace

ChainPoint evaluate_chain(const std::vector<ChainImage>& images, const PostprocSpec& spec, double t) {
  std::vector<double> always(images.size(), std::numeric_limits<double>::infinity());
  return evaluate_with(images, always, spec, t);
}

LabelledF1 labelled_f1(const std::vector<ChainImage>& images, const PostprocSpec& spec, double min_threshold,
                       size_t max_candidates) {
  check_no_blur(spec);
  if (images.empty()) throw InputError("labelled threshold sweep: no image");
  std::vector<bool> present(65536, false);
  for (const auto& im : images) {
    if (im.map.type() != CV_32FC1) throw InputError("labelled threshold sweep: maps must be CV_32F");
    for (int y = 0; y < im.map.rows; ++y) {
      const float* s = im.map.ptr<float>(y);
      for (int x = 0; x < im.map.cols; ++x) {
        if (std::isnan(s[x])) throw ModelError("the model produced NaN scores; calibration needs finite maps");
        present[half_order_key(float_to_half(s[x]))] = true;
      }
    }
  }
  std::vector<double> cand;
  for (int k = 0; k < 65536; ++k)
    if (present[static_cast<size_t>(k)]) cand.push_back(half_to_float(half_from_order_key(static_cast<uint16_t>(k))));
  cand.push_back(min_threshold);
  std::sort(cand.begin(), cand.end(), std::greater<double>());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  const std::vector<double> crit = criticals(images, spec);

  // Points by candidate index, each evaluated once.
  std::vector<ChainPoint> at(cand.size());
  std::vector<bool> done(cand.size(), false);
  auto eval = [&](size_t i) {
    if (!done[i]) at[i] = evaluate_with(images, crit, spec, cand[i]), done[i] = true;
  };
  // From the top: a tie keeps the higher threshold. Returns the index, or npos.
  auto best_of = [&](double floor) {
    size_t b = std::string::npos;
    for (size_t i = 0; i < cand.size(); ++i)
      if (done[i] && cand[i] >= floor && (b == std::string::npos || at[i].seg.f1() > at[b].seg.f1())) b = i;
    return b;
  };
  const size_t n = cand.size();
  if (max_candidates == 0 || n <= max_candidates) {
    for (size_t i = 0; i < n; ++i) eval(i);
  } else {
    // Coarse: evenly spaced ranks (first, last and min_threshold included);
    // then every value between the best coarse points' neighbours.
    const size_t steps = std::max<size_t>(2, max_candidates) - 1;
    std::vector<size_t> coarse;
    for (size_t j = 0; j <= steps; ++j) coarse.push_back(j * (n - 1) / steps);
    coarse.push_back(static_cast<size_t>(std::find(cand.begin(), cand.end(), min_threshold) - cand.begin()));
    std::sort(coarse.begin(), coarse.end());
    coarse.erase(std::unique(coarse.begin(), coarse.end()), coarse.end());
    for (size_t i : coarse) eval(i);
    for (double floor : {-std::numeric_limits<double>::infinity(), min_threshold}) {
      const size_t b = best_of(floor);
      if (b == std::string::npos) continue;
      const size_t pos = static_cast<size_t>(std::lower_bound(coarse.begin(), coarse.end(), b) - coarse.begin());
      const size_t lo = pos > 0 ? coarse[pos - 1] : 0, hi = pos + 1 < coarse.size() ? coarse[pos + 1] : n - 1;
      for (size_t i = lo; i <= hi; ++i) eval(i);
    }
  }
  LabelledF1 r;
  r.best = at[best_of(-std::numeric_limits<double>::infinity())];
  r.constrained = at[best_of(min_threshold)];
  r.candidates = n;
  for (size_t i = 0; i < n; ++i)
    if (done[i]) r.sweep.push_back(at[i]);
  return r;
}

std::vector<MinAreaRow> min_area_table(const std::vector<ChainImage>& clean, const std::vector<ChainImage>& pseudo,
                                       const PostprocSpec& spec, double false_alarms, const std::vector<int>& candidates) {
  check_no_blur(spec);
  std::vector<MinAreaRow> rows;
  for (int a : candidates) {
    PostprocSpec s = spec;
    s.min_area = a;
    MinAreaRow row;
    row.min_area = a;
    try {
      row.budget = budget_threshold(criticals(clean, s), false_alarms);
    } catch (const InputError&) {
      row.budget.threshold = std::numeric_limits<double>::infinity();  // nothing is ever flagged: finds nothing
      row.budget.n = static_cast<int>(clean.size());
    }
    for (const auto& im : pseudo)
      row.found += critical_threshold_found(im.map, im.gt, s, im.frame) >= row.budget.threshold ? 1 : 0;
    rows.push_back(row);
  }
  return rows;
}

size_t best_min_area(const std::vector<MinAreaRow>& rows, int prefer) {
  if (rows.empty()) throw InputError("min_area choice: no candidate");
  size_t b = 0;
  auto better = [&](const MinAreaRow& x, const MinAreaRow& y) {
    const bool fx = std::isfinite(x.budget.threshold), fy = std::isfinite(y.budget.threshold);
    if (fx != fy) return fx;  // a min_area at which nothing is ever flagged only if all are so
    if (x.found != y.found) return x.found > y.found;
    if (x.budget.flagged != y.budget.flagged) return x.budget.flagged < y.budget.flagged;
    if ((x.min_area == prefer) != (y.min_area == prefer)) return x.min_area == prefer;
    return x.min_area < y.min_area;
  };
  for (size_t i = 1; i < rows.size(); ++i)
    if (better(rows[i], rows[b])) b = i;
  return b;
}

cv::Mat draw_calibration(const CalibrationPlot& p, int width, int height) {
  if (p.clean_critical.empty()) throw InputError("calibration plot: no calibration image");
  // The threshold axis spans every finite critical value and the chosen point.
  double lo = p.chosen, hi = p.chosen;
  for (const auto* v : {&p.clean_critical, &p.found_critical})
    for (double x : *v)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = hi = 0;
  const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(1e-3, 0.05 * std::fabs(hi) + 1e-3);
  lo -= pad, hi += pad;
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 70, right = 250, top = 40, bottom = 60;
  const cv::Rect plot(left, top, width - left - right, height - top - bottom);
  auto px = [&](double t, double y) {
    return cv::Point(plot.x + static_cast<int>(std::lround((t - lo) / (hi - lo) * plot.width)),
                     plot.y + plot.height - static_cast<int>(std::lround(y * plot.height)));
  };
  const cv::Scalar black(0, 0, 0), grid(225, 225, 225), red(40, 39, 214), band(200, 200, 245), blue(180, 119, 31),
      green(44, 160, 44);
  for (int i = 0; i <= 5; ++i) {
    const double tx = lo + (hi - lo) * i / 5, fy = i / 5.0;
    cv::line(img, px(tx, 0), px(tx, 1), grid, 1);
    cv::line(img, px(lo, fy), px(hi, fy), grid, 1);
    plot_text(img, fmt(tx, 4), px(tx, 0) + cv::Point(0, 22), 0.45, black, 1);
    plot_text(img, fmt(100 * fy, 3) + "%", px(lo, fy) + cv::Point(-8, 5), 0.45, black, 2);
  }
  const int n = static_cast<int>(p.clean_critical.size());
  const int steps = std::max(2, plot.width);
  std::vector<cv::Point> rate, upper, found;
  for (int i = 0; i <= steps; ++i) {
    const double t = lo + (hi - lo) * i / steps;
    int f = 0, h = 0;
    for (double c : p.clean_critical) f += c >= t ? 1 : 0;
    for (double c : p.found_critical) h += c >= t ? 1 : 0;
    rate.push_back(px(t, static_cast<double>(f) / n));
    upper.push_back(px(t, clopper_pearson_upper(f, n)));
    if (!p.found_critical.empty()) found.push_back(px(t, static_cast<double>(h) / p.found_critical.size()));
  }
  std::vector<cv::Point> poly(upper);
  poly.insert(poly.end(), rate.rbegin(), rate.rend());
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{poly}, band, cv::LINE_AA);
  cv::polylines(img, rate, false, red, 2, cv::LINE_AA);
  if (!found.empty()) cv::polylines(img, found, false, blue, 2, cv::LINE_AA);
  std::vector<cv::Point> seg;
  for (const ChainPoint& c : p.labelled)
    if (c.threshold >= lo && c.threshold <= hi) seg.push_back(px(c.threshold, c.seg.f1()));
  std::sort(seg.begin(), seg.end(), [](const cv::Point& a, const cv::Point& b) { return a.x < b.x; });
  if (seg.size() > 1) cv::polylines(img, seg, false, green, 2, cv::LINE_AA);
  cv::rectangle(img, plot, black, 1);
  for (int y = plot.y; y < plot.y + plot.height; y += 10)
    cv::line(img, cv::Point(px(p.chosen, 0).x, y), cv::Point(px(p.chosen, 0).x, std::min(y + 5, plot.y + plot.height)),
             black, 2);
  plot_text(img, p.chosen_label + " " + fmt(p.chosen, 6), cv::Point(px(p.chosen, 0).x + 4, plot.y + 16), 0.45, black);
  plot_text(img, "threshold", cv::Point(plot.x + plot.width / 2, height - 15), 0.55, black, 1);
  plot_text(img, "False alarms and detection against the threshold (" + std::to_string(n) + " calibration images)",
       cv::Point(plot.x + plot.width / 2, 25), 0.55, black, 1);
  struct Item {
    cv::Scalar c;
    std::string s;
  };
  std::vector<Item> legend = {{red, "images flagged"}, {band, "95% upper bound"}};
  if (!found.empty()) legend.push_back({blue, "pseudo-defects found"});
  if (seg.size() > 1) legend.push_back({green, "labelled SegF1"});
  for (size_t k = 0; k < legend.size(); ++k) {
    const int ly = top + 20 + static_cast<int>(k) * 22;
    cv::line(img, cv::Point(width - right + 15, ly - 5), cv::Point(width - right + 40, ly - 5), legend[k].c, 6);
    plot_text(img, legend[k].s, cv::Point(width - right + 46, ly), 0.45, black);
  }
  return img;
}

void plot_calibration(const CalibrationPlot& p, const std::string& png) {
  const cv::Mat img = draw_calibration(p);
  ensure_parent_dir(png);
  write_image(png, img);
}

}  // namespace advad
