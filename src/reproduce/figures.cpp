#include "reproduce/figures.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/error.h"
#include "core/profile.h"
#include "data/dataset.h"
#include "data/half.h"
#include "data/image_io.h"
#include "metrics/plot_text.h"
#include "render/overlay.h"

namespace advad::reproduce {
namespace fs = std::filesystem;

namespace {

std::string map_path(const std::string& preds, const Sample& s) {
  return (fs::path(preds) / "anomaly_images" / (s.rel + ".tiff")).string();
}
std::string binary_path(const std::string& preds, const Sample& s) {
  return (fs::path(preds) / "anomaly_images_thresholded" / (s.rel + ".png")).string();
}

void outline(cv::Mat& bgr, const cv::Mat& mask01, const cv::Scalar& colour, int width) {
  std::vector<std::vector<cv::Point>> contours;
  cv::Mat m;
  mask01.convertTo(m, CV_8U, 255);
  cv::findContours(m, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(bgr, contours, -1, colour, width);
}

// Image with the ground truth | overlay with the prediction, as one BGR picture.
cv::Mat example_picture(const Sample& s, const std::string& preds, double threshold, const OverlayStyle& style) {
  const cv::Mat rgb = read_image_rgb(s.image);
  const cv::Mat map = read_map(map_path(preds, s));
  cv::Mat left;
  cv::cvtColor(rgb, left, cv::COLOR_RGB2BGR);
  cv::Mat right = left.clone();
  OverlayContent content;
  content.map = &map;
  content.threshold = threshold;
  double mx = 0;
  cv::minMaxLoc(map, nullptr, &mx);
  content.score = static_cast<float>(mx);
  draw_overlay(right, PixelFormat::BGR, content, style);
  const int w = std::max(1, std::min(left.cols, left.rows) / 150);
  if (!s.mask.empty()) outline(left, read_binary_mask(s.mask, left.size()), cv::Scalar(0, 200, 0), w);
  if (fs::exists(binary_path(preds, s))) outline(right, read_binary_mask(binary_path(preds, s), right.size()), cv::Scalar(0, 0, 255), w);
  cv::Mat both;
  cv::hconcat(left, right, both);
  return both;
}

struct Curve {
  std::vector<double> t, f1;
  double best_t = 0, best_f1 = 0, f1_at = 0;
};

// Pooled pixel F1 of `map >= t` for every float16 value t the maps hold
// (the values the server sees), from two histograms over the float16 order.
Curve f1_curve(const std::vector<Sample>& samples, const std::string& preds, double threshold) {
  std::vector<uint64_t> pos(65536, 0), neg(65536, 0);
  for (const auto& s : samples) {
    const cv::Mat bits = to_half_bits(read_map(map_path(preds, s)));
    cv::Mat gt = s.mask.empty() ? cv::Mat::zeros(bits.size(), CV_8U) : read_binary_mask(s.mask, bits.size());
    for (int y = 0; y < bits.rows; ++y) {
      const uint16_t* b = bits.ptr<uint16_t>(y);
      const uint8_t* g = gt.ptr<uint8_t>(y);
      for (int x = 0; x < bits.cols; ++x) {
        if (is_half_nan(b[x])) continue;
        (g[x] ? pos : neg)[half_order_key(b[x])]++;
      }
    }
  }
  uint64_t total_pos = 0;
  for (auto v : pos) total_pos += v;
  Curve c;
  uint64_t tp = 0, fp = 0;
  const uint16_t at_key = half_order_key(float_to_half(static_cast<float>(threshold)));
  // From the highest value down: at key k, everything >= k is called defective.
  for (int k = 65535; k >= 0; --k) {
    if (!pos[k] && !neg[k] && k != at_key) continue;
    tp += pos[k];
    fp += neg[k];
    const double f1 = (2.0 * tp + fp + (total_pos - tp)) > 0 ? 2.0 * tp / (2.0 * tp + fp + (total_pos - tp)) : 0.0;
    const double t = half_to_float(half_from_order_key(static_cast<uint16_t>(k)));
    if (k == at_key) c.f1_at = f1;
    if (!pos[k] && !neg[k]) continue;
    c.t.push_back(t);
    c.f1.push_back(f1);
    if (f1 > c.best_f1) c.best_f1 = f1, c.best_t = t;
  }
  return c;
}

void plot_curve(const Curve& c, double threshold, const std::string& category, const std::string& png) {
  const int W = 640, H = 400, L = 60, R = 20, T = 40, B = 50;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  double lo = threshold, hi = threshold;
  for (double t : c.t) lo = std::min(lo, t), hi = std::max(hi, t);
  if (hi <= lo) hi = lo + 1;
  auto X = [&](double t) { return L + static_cast<int>((t - lo) / (hi - lo) * (W - L - R)); };
  auto Y = [&](double f) { return H - B - static_cast<int>(f * (H - T - B)); };
  cv::rectangle(img, {L, T}, {W - R, H - B}, cv::Scalar(0, 0, 0), 1);
  for (int i = 0; i <= 4; ++i) {
    const double f = i / 4.0;
    cv::line(img, {L, Y(f)}, {W - R, Y(f)}, cv::Scalar(225, 225, 225), 1);
    plot_text(img, cv::format("%.2f", f), {8, Y(f) + 4}, 0.4, cv::Scalar(0, 0, 0));
  }
  std::vector<cv::Point> pts;
  for (size_t i = c.t.size(); i-- > 0;) pts.push_back({X(c.t[i]), Y(c.f1[i])});
  if (pts.size() > 1) cv::polylines(img, pts, false, cv::Scalar(180, 90, 0), 2, cv::LINE_AA);
  cv::line(img, {X(threshold), T}, {X(threshold), H - B}, cv::Scalar(0, 0, 220), 2);
  cv::line(img, {X(c.best_t), T}, {X(c.best_t), H - B}, cv::Scalar(0, 160, 0), 1);
  plot_text(img, category + ": pixel F1 of the raw map vs threshold (test_public)", {L, 25}, 0.5, cv::Scalar(0, 0, 0));
  plot_text(img, cv::format("%.3g", lo), {L - 10, H - B + 18}, 0.4, cv::Scalar(0, 0, 0));
  plot_text(img, cv::format("%.3g", hi), {W - R - 40, H - B + 18}, 0.4, cv::Scalar(0, 0, 0));
  plot_text(img, cv::format("red: calibrated %.4g (F1 %.3f)   green: best on test_public %.4g (F1 %.3f), not used",
                            threshold, c.f1_at, c.best_t, c.best_f1),
            {L - 40, H - 12}, 0.4, cv::Scalar(0, 0, 0));
  write_image(png, img);
}

}  // namespace

std::string write_category_figures(const FigureInputs& in) {
  const SplitListing listing = list_split(in.dataset, in.category, "test_public");
  fs::create_directories(in.out_dir);
  OverlayStyle style;
  try {
    style = overlay_style_from(load_profile((fs::path(in.package) / "profile.ini").string(), false).overlay);
  } catch (const std::exception&) {
  }
  int written = 0;
  for (const auto& s : listing.samples) {
    if (written >= in.examples) break;
    if (!s.anomalous || !fs::exists(map_path(in.predictions, s))) continue;
    write_image((fs::path(in.out_dir) / ("example_" + std::to_string(written + 1) + ".png")).string(),
                example_picture(s, in.predictions, in.threshold, style));
    ++written;
  }
  std::vector<Sample> scored;
  for (const auto& s : listing.samples)
    if (fs::exists(map_path(in.predictions, s))) scored.push_back(s);
  if (scored.empty()) throw InputError("no test_public maps of " + in.category + " under " + in.predictions);
  const Curve c = f1_curve(scored, in.predictions, in.threshold);
  plot_curve(c, in.threshold, in.category, (fs::path(in.out_dir) / "threshold_f1.png").string());
  const nlohmann::json j = {{"threshold", in.threshold}, {"f1_at_threshold", c.f1_at}, {"best_threshold", c.best_t},
                            {"best_f1", c.best_f1}, {"images", scored.size()}};
  std::ofstream((fs::path(in.out_dir) / "threshold_f1.json").string()) << j.dump(2) << "\n";
  return std::to_string(written) + " examples, F1 curve over " + std::to_string(scored.size()) + " maps";
}

}  // namespace advad::reproduce
