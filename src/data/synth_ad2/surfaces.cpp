// Surface categories: can (printed metal cylinder side), fabric (woven
// twill), sheet_metal (brushed grey strip under dark-field light).
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "data/synth_ad2/categories.h"

namespace advad::synth_ad2 {
namespace {

double sq(double v) { return v * v; }

// A ramp across a defect, |weight| >= 0.5 everywhere, so a dent reads as one
// darker and one brighter half with no unchanged middle.
cv::Mat dent_weight(cv::Size size, cv::Point2d c, double angle) {
  cv::Mat w(size, CV_32F);
  const double ca = std::cos(angle), sa = std::sin(angle);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double d = (x - c.x) * ca + (y - c.y) * sa;
      w.at<float>(y, x) = static_cast<float>(d >= 0 ? 0.5 + 0.5 * std::tanh(d / 3) : -0.5 + 0.5 * std::tanh(d / 3));
    }
  return w;
}

// ---- can --------------------------------------------------------------------

Scene draw_can(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  const int top = cvRound(h * (0.08 + rng.sym(0.02))), bot = cvRound(h * (0.92 + rng.sym(0.02)));
  const int bh = std::max(8, bot - top);
  // The unwrapped label (reflectance 0..1); the can turns about its axis, so
  // the print shifts along x from image to image.
  cv::Mat label(bh, w, CV_32FC3, cv::Scalar(0.80, 0.81, 0.84));
  auto band = [&](double t0, double t1, cv::Scalar c) {
    cv::rectangle(label, cv::Point(0, cvRound(t0 * bh)), cv::Point(w, cvRound(t1 * bh)), c, cv::FILLED);
  };
  band(0.50, 0.68, {0.78, 0.10, 0.12});
  band(0.72, 0.77, {0.12, 0.22, 0.62});
  band(0.16, 0.21, {0.85, 0.70, 0.15});
  const double period = w * 0.55, phase = rng.uni(0, period);
  for (double x0 = phase - period; x0 < w + period; x0 += period) {
    cv::circle(label, cv::Point(cvRound(x0), cvRound(0.59 * bh)), std::max(2, cvRound(0.13 * bh)),
               cv::Scalar(0.95, 0.95, 0.92), cv::FILLED, cv::LINE_AA);
    // a row of "letters"
    const int lh = std::max(2, cvRound(0.09 * bh)), lw = px(3, L, 2);
    for (int k = 0; k < 9; ++k) {
      const int lx = cvRound(x0 + period * 0.18 + k * (lw + px(2, L)));
      const int lhk = k % 3 == 1 ? lh * 3 / 4 : lh;
      cv::rectangle(label, cv::Rect(lx, cvRound(0.36 * bh), lw, lhk), cv::Scalar(0.15, 0.15, 0.18), cv::FILLED);
    }
  }
  // Cylinder shading and two highlight bands, plus faint vertical reflections.
  const double t0 = 0.30 + rng.sym(0.04), t1 = 0.84 + rng.sym(0.03);
  cv::Mat streak = smooth_field({w, 1}, rng, L / 10);
  cv::Mat body(bh, w, CV_8UC3);
  for (int y = 0; y < bh; ++y) {
    const double t = (y + 0.5) / bh;
    const double I = 0.30 + 0.70 * std::pow(std::sin(CV_PI * t), 0.6);
    const double spec = 0.55 * std::exp(-sq((t - t0) / 0.05)) + 0.25 * std::exp(-sq((t - t1) / 0.03));
    for (int x = 0; x < w; ++x) {
      const cv::Vec3f c = label.at<cv::Vec3f>(y, x);
      const double s = I * (1.0 + 0.06 * streak.at<float>(0, x));
      cv::Vec3b& o = body.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k) o[k] = cv::saturate_cast<uchar>(255.0 * (c[k] * s + spec));
    }
  }
  // Rims: a dark groove then a bright lip at both ends.
  const int rim = std::max(2, bh / 16);
  for (int r = 0; r < rim; ++r) {
    const double v = r < rim / 2 ? 0.45 : 1.15;
    body.row(r) *= v;
    body.row(bh - 1 - r) *= v;
  }
  Scene s;
  s.image = cv::Mat(sz, CV_8UC3, cv::Scalar(26, 26, 30));
  const int y0 = std::max(0, top), y1 = std::min(h, top + bh);
  body.rowRange(y0 - top, y1 - top).copyTo(s.image.rowRange(y0, y1));
  s.object = cv::Mat::zeros(sz, CV_8UC1);
  s.object.rowRange(std::min(h, y0 + rim + 1), std::max(y0 + rim + 1, y1 - rim - 1)).setTo(255);
  // A slight tilt of the can.
  const cv::Mat rot = cv::getRotationMatrix2D({w / 2.0f, h / 2.0f}, rng.sym(1.0), 1.0);
  cv::warpAffine(s.image, s.image, rot, sz, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::warpAffine(s.object, s.object, rot, sz, cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
  add_noise(s.image, rng.next(), 2.5);
  return s;
}

cv::Mat plant_can(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height);
  for (int attempt = 0;; ++attempt) {
    const cv::Point2d c = sample_point(s.object, rng, px(6, L));
    const double kind = rng.uni();
    if (kind < 0.45) {  // dent: a shaded dimple
      const double r = L * rng.uni(0.025, 0.05);
      const cv::Mat m = clip_to(blob_mask(sz, c, r, r * rng.uni(0.6, 0.9), rng.uni(0, 180), rng, 0.15), s.object);
      if (!big_enough(m) && attempt < 20) continue;
      shade(s.image, m, 90, dent_weight(sz, c, rng.uni(0, 2 * CV_PI)));
      return m;
    }
    if (kind < 0.8) {  // scratch
      const cv::Mat m = clip_to(crack_mask(sz, c, rng.uni(0, 2 * CV_PI), L * rng.uni(0.08, 0.2), px(1.4, L), rng, 0.08),
                                s.object);
      if (!big_enough(m) && attempt < 20) continue;
      paint(s.image, m, contrast_colour(s.image, m, 130), 0.95);
      return m;
    }
    // scuff: worn print / dirt
    const double r = L * rng.uni(0.02, 0.04);
    const cv::Mat m = clip_to(blob_mask(sz, c, r * 1.6, r, rng.uni(0, 180), rng, 0.4), s.object);
    if (!big_enough(m) && attempt < 20) continue;
    paint(s.image, m, cv::Scalar(62, 54, 44), 0.85);
    return m;
  }
}

// ---- fabric -----------------------------------------------------------------

Scene draw_fabric(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h), p = std::max(4.0, L / 48.0);
  const double th = rng.sym(4.0) * CV_PI / 180.0, ct = std::cos(th), st = std::sin(th);
  const double ou = rng.uni(0, 64 * p), ov = rng.uni(0, 64 * p);
  const cv::Vec3d warp(40 + rng.sym(8), 62 + rng.sym(8), 112 + rng.sym(10));
  const cv::Vec3d weft(196 + rng.sym(8), 174 + rng.sym(8), 132 + rng.sym(8));
  // Per-thread thickness/brightness (slubs), 256 threads each way, wrapping.
  double fw[256], ff[256];
  for (int i = 0; i < 256; ++i) fw[i] = 1.0 + rng.sym(0.08), ff[i] = 1.0 + rng.sym(0.08);
  const cv::Mat field = smooth_field(sz, rng, L / 6);
  Scene s;
  s.image.create(sz, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double u = (x * ct + y * st + ou) / p, v = (-x * st + y * ct + ov) / p;
      const int i = static_cast<int>(std::floor(u)), j = static_cast<int>(std::floor(v));
      const bool warp_up = (((i + j) % 4) + 4) % 4 < 2;  // 2/2 twill
      const double across = warp_up ? u - i : v - j;
      const double slub = warp_up ? fw[i & 255] : ff[j & 255];
      const double k = (0.68 + 0.32 * std::sin(CV_PI * across)) * slub * (1.0 + 0.06 * field.at<float>(y, x));
      const cv::Vec3d c = warp_up ? warp : weft;
      cv::Vec3b& o = s.image.at<cv::Vec3b>(y, x);
      for (int q = 0; q < 3; ++q) o[q] = cv::saturate_cast<uchar>(c[q] * k);
    }
  add_noise(s.image, rng.next(), 4.0);
  s.object = cv::Mat::zeros(sz, CV_8UC1);
  s.object(cv::Rect(1, 1, w - 2, h - 2)).setTo(255);
  return s;
}

cv::Mat plant_fabric(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height);
  const cv::Point2d c = sample_point(s.object, rng, px(12, L));
  const double kind = rng.uni();
  if (kind < 0.4) {  // hole: dark opening with a frayed light rim
    const double r = L * rng.uni(0.02, 0.04);
    const cv::Mat hole = blob_mask(sz, c, r, r * rng.uni(0.6, 1.0), rng.uni(0, 180), rng, 0.35);
    cv::Mat m;
    cv::dilate(hole, m, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
    m = clip_to(m, s.object);
    paint(s.image, m - hole, cv::Scalar(235, 225, 200), 0.7);
    paint(s.image, clip_to(hole, s.object), cv::Scalar(14, 14, 18), 1.0);
    return m;
  }
  if (kind < 0.75) {  // stain
    const double r = L * rng.uni(0.035, 0.07);
    const cv::Mat m = clip_to(blob_mask(sz, c, r, r * rng.uni(0.5, 0.9), rng.uni(0, 180), rng, 0.45), s.object);
    paint(s.image, m, cv::Scalar(120, 78, 28), 0.65);
    return m;
  }
  // a pulled / foreign thread along the weave
  const double a = rng.chance(0.5) ? 0.0 : CV_PI / 2;
  const cv::Mat m = clip_to(crack_mask(sz, c, a + rng.sym(0.1), L * rng.uni(0.15, 0.3), px(2, L, 2), rng, 0.05),
                            s.object);
  paint(s.image, m, cv::Scalar(238, 232, 218), 0.95);
  return m;
}

// ---- sheet_metal ------------------------------------------------------------

Scene draw_sheet_metal(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  const double y0 = h * (0.12 + rng.sym(0.03)), y1 = h * (0.88 + rng.sym(0.03)), slope = rng.sym(0.008);
  const double base = 105 + rng.sym(10);
  // Brushing: fine noise smeared along x, per-row streaks, broad reflections.
  cv::Mat fine(sz, CV_32F);
  cv::RNG(rng.next() | 1u).fill(fine, cv::RNG::NORMAL, 0.0, 1.0);
  const int kx = std::max(3, static_cast<int>(L / 12)) | 1;
  cv::blur(fine, fine, {kx, 1});
  fine *= 8.0 * std::sqrt(static_cast<double>(kx));
  cv::Mat rows(h, 4, CV_32F);
  cv::RNG(rng.next() | 1u).fill(rows, cv::RNG::NORMAL, 0.0, 9.0);
  cv::resize(rows, rows, sz, 0, 0, cv::INTER_LINEAR);
  const cv::Mat broad = smooth_field(sz, rng, L / 3) * 15.0;
  Scene s;
  s.image.create(sz, CV_8UC1);
  s.object = cv::Mat::zeros(sz, CV_8UC1);
  const double edge = std::max(1.0, h / 40.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double dy = slope * (x - w / 2.0), a = y0 + dy, b = y1 + dy;
      double v = 18;
      if (y >= a && y <= b) {
        v = base + fine.at<float>(y, x) + rows.at<float>(y, x) + broad.at<float>(y, x);
        if (y - a < edge || b - y < edge) v = 200;  // edges catch the dark-field light
        if (y - a > edge + 2 && b - y > edge + 2) s.object.at<uchar>(y, x) = 255;
      }
      s.image.at<uchar>(y, x) = cv::saturate_cast<uchar>(v);
    }
  add_noise(s.image, rng.next(), 3.0);
  return s;
}

cv::Mat plant_sheet_metal(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height);
  for (int attempt = 0;; ++attempt) {
    const cv::Point2d c = sample_point(s.object, rng, px(3, L));
    const double kind = rng.uni();
    cv::Mat m;
    if (kind < 0.5) {  // scratch: bright under dark-field light
      m = clip_to(crack_mask(sz, c, rng.uni(0, 2 * CV_PI), L * rng.uni(0.06, 0.16), px(1.2, L), rng, 0.08), s.object);
      if (!big_enough(m) && attempt < 20) continue;
      shade(s.image, m, 95);
    } else if (kind < 0.8) {  // dent
      const double r = L * rng.uni(0.012, 0.025);
      m = clip_to(blob_mask(sz, c, r * 1.3, r, rng.uni(0, 180), rng, 0.15), s.object);
      if (!big_enough(m) && attempt < 20) continue;
      shade(s.image, m, 90, dent_weight(sz, c, rng.uni(0, 2 * CV_PI)));
    } else {  // pits: a few dark spots
      m = cv::Mat::zeros(sz, CV_8UC1);
      for (int k = rng.range(2, 4); k > 0; --k) {
        const cv::Point2d q = c + cv::Point2d(rng.sym(L * 0.03), rng.sym(L * 0.015));
        m |= blob_mask(sz, q, L * rng.uni(0.006, 0.012), L * rng.uni(0.006, 0.012), 0, rng, 0.2);
      }
      m = clip_to(m, s.object);
      if (!big_enough(m) && attempt < 20) continue;
      paint(s.image, m, cv::Scalar(30), 1.0);
    }
    return m;
  }
}

}  // namespace

CategoryDef can_category() { return {"can", 2232, 1024, false, 4, 2, 3, draw_can, plant_can}; }
CategoryDef fabric_category() { return {"fabric", 2448, 2048, false, 2, 2, 3, draw_fabric, plant_fabric}; }
CategoryDef sheet_metal_category() {
  return {"sheet_metal", 4224, 1056, true, 8, 2, 3, draw_sheet_metal, plant_sheet_metal};
}

}  // namespace advad::synth_ad2
