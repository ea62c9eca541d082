// Bulk-goods categories: rice (grains in a bowl), wallplugs (grey plastic
// plugs lying on a belt), walnuts (nuts piled on a tray).
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "data/synth_ad2/categories.h"

namespace advad::synth_ad2 {
namespace {

cv::Point P(cv::Point2d p) { return {cvRound(p.x), cvRound(p.y)}; }
cv::Size S(double a, double b) { return {std::max(1, cvRound(a)), std::max(1, cvRound(b))}; }

// ---- rice -------------------------------------------------------------------

Scene draw_rice(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  Scene s;
  s.image = cv::Mat(sz, CV_8UC3, cv::Scalar(52, 48, 46));
  shade(s.image, cv::Mat(sz, CV_8UC1, cv::Scalar(255)), 6, smooth_field(sz, rng, L / 4));
  s.object = cv::Mat::zeros(sz, CV_8UC1);
  const cv::Point2d bc(w / 2.0 + rng.sym(0.03 * w), h / 2.0 + rng.sym(0.03 * h));
  const double ax = 0.47 * w, ay = 0.47 * h, gl = L * 0.05, gw = gl * 0.38;
  const int n = static_cast<int>(1.3 * CV_PI * ax * ay / (gl * gw * 0.785));
  for (int i = 0; i < n; ++i) {
    cv::Point2d c;
    do c = {rng.uni(-1, 1), rng.uni(-1, 1)};
    while (c.x * c.x + c.y * c.y > 1);
    c = {bc.x + c.x * ax, bc.y + c.y * ay};
    const double a = rng.uni(0, 180), k = 1.0 + rng.sym(0.12), b = rng.sym(10);
    const cv::Size ax2 = S(gl * k / 2, gw * k / 2);
    cv::ellipse(s.image, P(c + cv::Point2d(1, 1)), ax2, a, 0, 360, cv::Scalar(112, 106, 96), cv::FILLED, cv::LINE_AA);
    cv::ellipse(s.image, P(c), ax2, a, 0, 360, cv::Scalar(226 + b, 222 + b, 206 + b), cv::FILLED, cv::LINE_AA);
    cv::ellipse(s.image, P(c - cv::Point2d(0.5, 0.5)), S(ax2.width * 0.55, ax2.height * 0.45), a, 0, 360,
                cv::Scalar(246, 244, 236), cv::FILLED, cv::LINE_AA);
    cv::ellipse(s.object, P(c), ax2, a, 0, 360, cv::Scalar(255), cv::FILLED, cv::LINE_8);
  }
  // The product is the rice layer, small gaps between grains included.
  const int k = std::max(3, cvRound(gl * 0.8)) | 1;
  cv::morphologyEx(s.object, s.object, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
  add_noise(s.image, rng.next(), 3.0);
  return s;
}

cv::Mat plant_rice(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height), gl = L * 0.05;
  // A grain length inside the rice layer, so the whole item lies on rice.
  const cv::Point2d c = sample_point(s.object, rng, px(14, L));
  cv::Mat m = cv::Mat::zeros(sz, CV_8UC1);
  const double kind = rng.uni();
  cv::Scalar colour;
  if (kind < 0.45) {  // a dark or husked grain among the white ones
    cv::ellipse(m, P(c), S(gl * 0.55, gl * 0.21), rng.uni(0, 180), 0, 360, cv::Scalar(255), cv::FILLED, cv::LINE_8);
    colour = rng.chance(0.5) ? cv::Scalar(98, 58, 30) : cv::Scalar(42, 32, 28);
  } else if (kind < 0.75) {  // a foreign seed
    const double r = gl * rng.uni(0.35, 0.5);
    m = blob_mask(sz, c, r, r * 0.85, rng.uni(0, 180), rng, 0.1);
    colour = rng.chance(0.5) ? cv::Scalar(140, 40, 32) : cv::Scalar(82, 110, 40);
  } else {  // a small stone
    m = blob_mask(sz, c, gl * 0.45, gl * 0.32, rng.uni(0, 180), rng, 0.35);
    colour = {108, 104, 100};
  }
  paint(s.image, m, colour, 1.0);
  return m;
}

// ---- wallplugs --------------------------------------------------------------

struct Plug {
  cv::Point2d c;
  double angle, len, dia, tone;
};

// Draws one plug (body with ribs and teeth, collar, expansion slit) onto img and its mask.
void draw_plug(cv::Mat& img, cv::Mat& mask, const Plug& p, double L) {
  const double a = p.angle * CV_PI / 180.0;
  const cv::Point2d u(std::cos(a), std::sin(a)), v(-std::sin(a), std::cos(a));
  const auto at = [&](double du, double dv) { return p.c + u * du + v * dv; };
  const double hl = p.len / 2, hd = p.dia / 2;
  std::vector<std::vector<cv::Point>> polys;
  polys.push_back(rotated_rect(at(0.04 * p.len, 0), hl * 0.92, hd, p.angle));            // body
  polys.push_back(rotated_rect(at(-hl + 0.04 * p.len, 0), 0.04 * p.len, hd * 1.32, p.angle));  // collar
  for (int k = 0; k < 6; ++k) {                                                          // teeth
    const double du = -hl + p.len * (0.16 + 0.12 * k);
    for (double side : {-1.0, 1.0})
      polys.push_back({P(at(du, side * hd)), P(at(du + p.len * 0.08, side * hd)), P(at(du + p.len * 0.02, side * hd * 1.22))});
  }
  cv::fillPoly(mask, polys, cv::Scalar(255), cv::LINE_8);
  cv::fillPoly(img, polys, cv::Scalar(p.tone), cv::LINE_AA);
  cv::polylines(img, polys, true, cv::Scalar(p.tone - 55), 1, cv::LINE_AA);
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{rotated_rect(at(0.04 * p.len, -hd * 0.15), hl * 0.85, hd * 0.16, p.angle)},
               cv::Scalar(p.tone + 28), cv::LINE_AA);  // cylinder highlight
  for (int k = 0; k < 6; ++k) {
    const double du = -hl + p.len * (0.16 + 0.12 * k);
    cv::line(img, P(at(du, -hd)), P(at(du, hd)), cv::Scalar(p.tone - 40), 1, cv::LINE_AA);  // ribs
  }
  cv::line(img, P(at(p.len * 0.05, 0)), P(at(hl * 0.96, 0)), cv::Scalar(70), px(1.6, L), cv::LINE_AA);  // slit
}

Scene draw_wallplugs(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  cv::Mat bg(sz, CV_8UC1, cv::Scalar(62));
  shade(bg, cv::Mat(sz, CV_8UC1, cv::Scalar(255)), 8, smooth_field(sz, rng, L / 5));
  const int n = rng.range(5, 7);
  std::vector<Plug> plugs;
  cv::Mat img = bg.clone(), mask = cv::Mat::zeros(sz, CV_8UC1), unused = mask.clone();
  Scene s;
  for (int i = 0; i < n; ++i) {
    const bool last = i == n - 1;
    Plug p{};
    // The last (topmost) plug lies mostly free, so removing a part of it shows the belt.
    for (int attempt = 0; attempt < 40; ++attempt) {
      const double len = L * 0.30 * (1.0 + rng.sym(0.1));
      p = {{rng.uni(len * 0.45, w - len * 0.45), rng.uni(len * 0.45, h - len * 0.45)}, rng.uni(0, 360), len,
           len * 0.26, 165 + rng.sym(12)};
      if (!last) break;
      cv::Mat pm = cv::Mat::zeros(sz, CV_8UC1), scratch = img.clone();
      draw_plug(scratch, pm, p, L);
      if (cv::countNonZero(pm & mask) < 0.08 * cv::countNonZero(pm)) break;
    }
    if (last) {
      s.under = img.clone();
      s.top = cv::Mat::zeros(sz, CV_8UC1);
      draw_plug(img, s.top, p, L);
      mask |= s.top;
    } else {
      draw_plug(img, mask, p, L);
    }
  }
  const uint32_t noise = rng.next();
  add_noise(img, noise, 3.0);
  add_noise(s.under, noise, 3.0);  // the same grain, so only a removed part differs
  s.image = img;
  s.object = mask;
  return s;
}

cv::Mat plant_wallplugs(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height);
  const double kind = rng.uni();
  // The top plug's axis from its mask's moments.
  const cv::Moments mo = cv::moments(s.top, true);
  const cv::Point2d c(mo.m10 / mo.m00, mo.m01 / mo.m00);
  const double axis = 0.5 * std::atan2(2 * mo.mu11, mo.mu20 - mo.mu02);
  const cv::Point2d u(std::cos(axis), std::sin(axis));
  for (int attempt = 0;; ++attempt) {
    cv::Mat m;
    if (kind < 0.45) {  // missing / broken-off end
      const double side = rng.chance(0.5) ? 1.0 : -1.0, cut = L * 0.30 * rng.uni(0.18, 0.32);
      const double tilt = axis + rng.sym(0.4);
      const cv::Point2d q = c + u * side * (L * 0.15 - cut), n(std::cos(tilt) * side, std::sin(tilt) * side);
      cv::Mat half = cv::Mat::zeros(sz, CV_8UC1);
      for (int y = 0; y < sz.height; ++y)
        for (int x = 0; x < sz.width; ++x)
          if ((x - q.x) * n.x + (y - q.y) * n.y > 0) half.at<uchar>(y, x) = 255;
      m = clip_to(half, s.top);
      if (!big_enough(m) && attempt < 20) continue;
      s.under.copyTo(s.image, m);
    } else if (kind < 0.75) {  // crack across the plug
      const cv::Point2d p = c + u * rng.sym(L * 0.08);
      m = clip_to(crack_mask(sz, p - cv::Point2d(-u.y, u.x) * (L * 0.06), axis + CV_PI / 2 + rng.sym(0.3), L * 0.12,
                             px(1.5, L), rng, 0.4),
                  s.top);
      if (!big_enough(m) && attempt < 20) continue;
      paint(s.image, m, cv::Scalar(38), 1.0);
    } else {  // burn / melt mark
      const cv::Point2d p = c + u * rng.sym(L * 0.09);
      m = clip_to(blob_mask(sz, p, L * rng.uni(0.02, 0.03), L * rng.uni(0.015, 0.025), rng.uni(0, 180), rng, 0.35), s.top);
      if (!big_enough(m) && attempt < 20) continue;
      paint(s.image, m, cv::Scalar(82), 1.0);
    }
    return m;
  }
}

// ---- walnuts ----------------------------------------------------------------

// One walnut: shaded ellipse, wrinkled shell (the zero lines of a smooth
// field), a seam along its long axis; written onto img and mask.
void draw_walnut(cv::Mat& img, cv::Mat& mask, cv::Point2d c, double rx, double ry, double angle,
                 const cv::Vec3d& base, const cv::Mat& wrinkles) {
  const double ca = std::cos(angle), sa = std::sin(angle), r = std::max(rx, ry);
  cv::ellipse(img, P(c + cv::Point2d(2, 2)), S(rx, ry), angle * 180 / CV_PI, 0, 360, cv::Scalar(80, 76, 70), cv::FILLED,
              cv::LINE_AA);  // shadow
  const int x0 = std::max(0, cvRound(c.x - r) - 1), x1 = std::min(img.cols - 1, cvRound(c.x + r) + 1);
  const int y0 = std::max(0, cvRound(c.y - r) - 1), y1 = std::min(img.rows - 1, cvRound(c.y + r) + 1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double dx = x - c.x, dy = y - c.y, lx = dx * ca + dy * sa, ly = -dx * sa + dy * ca;
      const double d2 = lx * lx / (rx * rx) + ly * ly / (ry * ry);
      if (d2 > 1.0) continue;
      double k = 1.0 - 0.5 * d2 - 0.15 * (dx + dy) / r;  // light from the top left
      if (std::abs(wrinkles.at<float>(y, x)) < 0.2) k *= 0.75;  // shallow shell furrows
      if (std::abs(ly) < ry * 0.07) k *= 0.5;
      cv::Vec3b& o = img.at<cv::Vec3b>(y, x);
      for (int q = 0; q < 3; ++q) o[q] = cv::saturate_cast<uchar>(base[q] * k);
      mask.at<uchar>(y, x) = 255;
    }
}

Scene draw_walnuts(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  Scene s;
  s.image = cv::Mat(sz, CV_8UC3, cv::Scalar(132, 128, 122));
  shade(s.image, cv::Mat(sz, CV_8UC1, cv::Scalar(255)), 8, smooth_field(sz, rng, L / 4));
  const cv::Mat wrinkles = smooth_field(sz, rng, L * 0.012);
  s.object = cv::Mat::zeros(sz, CV_8UC1);
  const int n = rng.range(36, 44);
  for (int i = 0; i < n; ++i) {
    const double r = L * 0.075 * (1.0 + rng.sym(0.15));
    const cv::Point2d c(rng.uni(0, w), rng.uni(0, h));
    const cv::Vec3d base(160 + rng.sym(10), 112 + rng.sym(8), 62 + rng.sym(6));
    const bool last = i == n - 1;
    cv::Mat m = cv::Mat::zeros(sz, CV_8UC1);
    // The topmost nut sits inside the image, so its defects are never cut off.
    const cv::Point2d cc = last ? cv::Point2d(rng.uni(r * 1.2, w - r * 1.2), rng.uni(r * 1.2, h - r * 1.2)) : c;
    draw_walnut(s.image, m, cc, r, r * rng.uni(0.8, 0.92), rng.uni(0, CV_PI), base, wrinkles);
    if (last) s.top = m;
    s.object |= m;
  }
  add_noise(s.image, rng.next(), 3.0);
  return s;
}

cv::Mat plant_walnuts(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height), r = L * 0.075;
  const cv::Moments mo = cv::moments(s.top, true);
  const cv::Point2d c(mo.m10 / mo.m00, mo.m01 / mo.m00);
  const double kind = rng.uni();
  cv::Mat m;
  cv::Scalar colour;
  if (kind < 0.4) {  // crack through the shell
    const double a = rng.uni(0, 2 * CV_PI);
    m = crack_mask(sz, c - cv::Point2d(std::cos(a), std::sin(a)) * (r * 0.7), a, r * 1.5, px(2.5, L, 2), rng, 0.4);
    colour = {20, 14, 8};
  } else if (kind < 0.7) {  // hole
    const double rr = r * rng.uni(0.22, 0.32);
    m = blob_mask(sz, c + cv::Point2d(rng.sym(r * 0.3), rng.sym(r * 0.3)), rr, rr * 0.85, rng.uni(0, 180), rng, 0.3);
    colour = {24, 17, 12};
  } else {  // broken shell showing the kernel
    const double rr = r * rng.uni(0.35, 0.5), a = rng.uni(0, 2 * CV_PI);
    m = blob_mask(sz, c + cv::Point2d(std::cos(a), std::sin(a)) * (r * 0.4), rr, rr * 0.7, rng.uni(0, 180), rng, 0.35);
    colour = {226, 196, 140};
  }
  m = clip_to(m, s.top);
  paint(s.image, m, colour, 1.0);
  return m;
}

}  // namespace

CategoryDef rice_category() { return {"rice", 2448, 2048, false, 4, 4, 3, draw_rice, plant_rice}; }
CategoryDef wallplugs_category() { return {"wallplugs", 2448, 2048, true, 1, 1, 3, draw_wallplugs, plant_wallplugs}; }
CategoryDef walnuts_category() { return {"walnuts", 2448, 2048, false, 2, 2, 3, draw_walnuts, plant_walnuts}; }

}  // namespace advad::synth_ad2
