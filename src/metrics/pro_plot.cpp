#include "metrics/pro_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "data/image_io.h"
#include "metrics/plot_text.h"
#include "metrics/report.h"

namespace advad {
namespace {

const cv::Scalar kColours[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44}, {40, 39, 214}, {189, 103, 148},
                               {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};

std::string fmt(double v, int decimals) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

}  // namespace

cv::Mat draw_pro_curves(const std::vector<ObjectResult>& results, double x_max, int width, int height) {
  const std::vector<double> limits = limits_of(results);
  if (x_max <= 0) x_max = limits.empty() ? 0.3 : *std::max_element(limits.begin(), limits.end());
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 80, right = 220, top = 40, bottom = 70;
  const cv::Rect plot(left, top, width - left - right, height - top - bottom);
  auto px = [&](double fpr, double pro) {
    return cv::Point(plot.x + static_cast<int>(std::lround(fpr / x_max * plot.width)),
                     plot.y + plot.height - static_cast<int>(std::lround(pro * plot.height)));
  };
  const cv::Scalar black(0, 0, 0), grid(225, 225, 225);
  // Ticks and grid: 5 steps on each axis.
  const int decimals = x_max < 0.1 ? 3 : 2;
  for (int i = 0; i <= 5; ++i) {
    const double fx = x_max * i / 5, fy = i / 5.0;
    cv::line(img, px(fx, 0), px(fx, 1), grid, 1);
    cv::line(img, px(0, fy), px(x_max, fy), grid, 1);
    cv::line(img, px(fx, 0), px(fx, 0) + cv::Point(0, 6), black, 1);
    cv::line(img, px(0, fy), px(0, fy) - cv::Point(6, 0), black, 1);
    plot_text(img, fmt(fx, decimals), px(fx, 0) + cv::Point(0, 24), 0.45, black, 1);
    plot_text(img, fmt(fy, 1), px(0, fy) + cv::Point(-10, 5), 0.45, black, 2);
  }
  cv::rectangle(img, plot, black, 1);
  plot_text(img, "false positive rate (normal pixels)", cv::Point(plot.x + plot.width / 2, height - 20), 0.55, black, 1);
  plot_text(img, "PRO", cv::Point(16, plot.y + plot.height / 2), 0.55, black, 0);
  plot_text(img, "PRO curves, AU-PRO integrated up to the dashed limits", cv::Point(plot.x + plot.width / 2, 25), 0.55, black, 1);
  // Integration limits: dashed vertical lines.
  for (double l : limits) {
    if (l > x_max) continue;
    for (int y = plot.y; y < plot.y + plot.height; y += 10)
      cv::line(img, cv::Point(px(l, 0).x, y), cv::Point(px(l, 0).x, std::min(y + 5, plot.y + plot.height)), cv::Scalar(90, 90, 90), 1);
    plot_text(img, "FPR " + limit_text(l), cv::Point(px(l, 0).x - 4, plot.y + 16), 0.45, cv::Scalar(90, 90, 90), 2);
  }
  // Curves (clipped at x_max, interpolated there) and the legend.
  for (size_t k = 0; k < results.size(); ++k) {
    const cv::Scalar c = kColours[k % 10];
    const auto& cur = results[k].pixel.plot_curve;
    std::vector<cv::Point> pts;
    for (size_t i = 0; i < cur.fpr.size(); ++i) {
      if (cur.fpr[i] <= x_max) {
        pts.push_back(px(cur.fpr[i], cur.pro[i]));
      } else {
        if (i > 0 && cur.fpr[i] > cur.fpr[i - 1]) {
          const double t = (x_max - cur.fpr[i - 1]) / (cur.fpr[i] - cur.fpr[i - 1]);
          pts.push_back(px(x_max, cur.pro[i - 1] + t * (cur.pro[i] - cur.pro[i - 1])));
        }
        break;
      }
    }
    if (pts.size() > 1) cv::polylines(img, pts, false, c, 2, cv::LINE_AA);
    const int ly = top + 20 + static_cast<int>(k) * 22;
    cv::line(img, cv::Point(width - right + 15, ly - 5), cv::Point(width - right + 40, ly - 5), c, 3);
    std::string label = results[k].object;
    if (!limits.empty()) {
      const double v = results[k].pixel.au_pro_at(limits.front());
      label += " " + (std::isnan(v) ? std::string("n/a") : fmt(100 * v, 1));
    }
    plot_text(img, label, cv::Point(width - right + 46, ly), 0.45, black);
  }
  if (!limits.empty())
    plot_text(img, "(AU-PRO@" + limit_text(limits.front()) + " %)", cv::Point(width - right + 15, top + 20 + 22 * static_cast<int>(results.size())),
         0.4, cv::Scalar(90, 90, 90));
  return img;
}

void plot_pro_curves(const std::vector<ObjectResult>& results, const std::string& png, double x_max) {
  cv::Mat img = draw_pro_curves(results, x_max);
  ensure_parent_dir(png);
  write_image(png, img);
}

}  // namespace advad
