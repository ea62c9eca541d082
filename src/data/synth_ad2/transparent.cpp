// Back-lit transparent categories: fruit_jelly (jelly cups in a tray) and
// vial (a glass vial with liquid, seen from the side).
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "data/synth_ad2/categories.h"

namespace advad::synth_ad2 {
namespace {

// ---- fruit_jelly ------------------------------------------------------------

Scene draw_fruit_jelly(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  Scene s;
  // Back light with a soft vignette.
  s.image.create(sz, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double r2 = std::pow((x - w / 2.0) / w, 2) + std::pow((y - h / 2.0) / h, 2);
      const double k = 1.0 - 0.35 * r2;
      s.image.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(238 * k), cv::saturate_cast<uchar>(236 * k),
                                              cv::saturate_cast<uchar>(228 * k));
    }
  // The tray.
  const cv::Rect tray(cvRound(w * 0.04), cvRound(h * 0.06), cvRound(w * 0.92), cvRound(h * 0.88));
  cv::Mat tray_m = cv::Mat::zeros(sz, CV_8UC1);
  cv::rectangle(tray_m, tray, cv::Scalar(255), cv::FILLED);
  paint(s.image, tray_m, cv::Scalar(205, 205, 200), 0.5);
  cv::rectangle(s.image, tray, cv::Scalar(165, 165, 162), px(2, L), cv::LINE_AA);
  // 3 x 2 cups, each a fruit colour, with fruit pieces inside.
  static const cv::Scalar palette[] = {{240, 128, 40}, {205, 38, 52}, {238, 196, 48}, {118, 186, 62}};
  s.object = cv::Mat::zeros(sz, CV_8UC1);
  const double cw = tray.width / 3.0, ch = tray.height / 2.0;
  for (int row = 0; row < 2; ++row)
    for (int col = 0; col < 3; ++col) {
      const double r = std::min(cw, ch) * 0.40 * (1.0 + rng.sym(0.04));
      const cv::Point2d c(tray.x + cw * (col + 0.5) + rng.sym(L * 0.012), tray.y + ch * (row + 0.5) + rng.sym(L * 0.012));
      const cv::Scalar colour = palette[rng.range(0, 3)];
      cv::Mat cup = cv::Mat::zeros(sz, CV_8UC1), inner = cv::Mat::zeros(sz, CV_8UC1);
      cv::circle(cup, c, cvRound(r), cv::Scalar(255), cv::FILLED, cv::LINE_8);
      cv::circle(inner, c, cvRound(r * 0.84), cv::Scalar(255), cv::FILLED, cv::LINE_8);
      paint(s.image, cup, colour, 0.62);
      paint(s.image, cup - inner, colour * 0.6, 0.5);  // thicker jelly at the wall
      for (int k = rng.range(3, 5); k > 0; --k) {
        const double a = rng.uni(0, 2 * CV_PI), d = rng.uni(0, r * 0.5);
        const cv::Mat piece = blob_mask(sz, c + cv::Point2d(std::cos(a), std::sin(a)) * d, r * rng.uni(0.16, 0.28),
                                        r * rng.uni(0.12, 0.2), rng.uni(0, 180), rng, 0.25);
        paint(s.image, clip_to(piece, inner), colour * 0.72, 0.55);
      }
      cv::circle(s.image, c, cvRound(r), cv::Scalar(150, 150, 150), px(1.5, L), cv::LINE_AA);
      cv::ellipse(s.image, c, cv::Size(cvRound(r * 0.7), cvRound(r * 0.7)), 0, 200, 250, cv::Scalar(252, 252, 250),
                  px(2, L), cv::LINE_AA);
      cv::Mat obj;
      cv::erode(cup, obj, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
      s.object |= obj;
    }
  add_noise(s.image, rng.next(), 2.5);
  return s;
}

cv::Mat plant_fruit_jelly(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height);
  for (int attempt = 0;; ++attempt) {
    const cv::Point2d c = sample_point(s.object, rng, px(6, L));
    const double kind = rng.uni();
    cv::Mat m;
    cv::Scalar colour;
    if (kind < 0.4) {  // foreign particle
      const double r = L * rng.uni(0.012, 0.025);
      m = blob_mask(sz, c, r, r * rng.uni(0.6, 1.0), rng.uni(0, 180), rng, 0.35);
      colour = {45, 35, 25};
    } else if (kind < 0.65) {  // hair / fibre
      m = crack_mask(sz, c, rng.uni(0, 2 * CV_PI), L * rng.uni(0.06, 0.12), px(1.2, L), rng, 0.5);
      colour = {30, 30, 30};
    } else {  // cut: a bright slit through the jelly
      m = crack_mask(sz, c, rng.uni(0, 2 * CV_PI), L * rng.uni(0.06, 0.1), px(2, L, 2), rng, 0.05);
      colour = {252, 250, 245};
    }
    m = clip_to(m, s.object);
    if (!big_enough(m) && attempt < 20) continue;
    paint(s.image, m, colour, 0.92);
    return m;
  }
}

// ---- vial -------------------------------------------------------------------

Scene draw_vial(cv::Size sz, Rng& rng) {
  const int w = sz.width, h = sz.height;
  const double L = std::max(w, h);
  cv::Mat img(sz, CV_8UC1), obj = cv::Mat::zeros(sz, CV_8UC1);
  const cv::Mat bgf = smooth_field(sz, rng, L / 2);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at<uchar>(y, x) = cv::saturate_cast<uchar>(212 + 10 * bgf.at<float>(y, x));
  const double cx = w / 2.0 + rng.sym(w * 0.04), bwh = w * 0.22 * (1.0 + rng.sym(0.03));
  const double ytb = h * 0.30, yb = h * 0.93, rr = bwh * 0.5, nh = bwh * 0.55;
  const double level = h * (0.46 + rng.sym(0.04));
  // Glass body (rounded bottom) and neck as one region.
  cv::Mat body = cv::Mat::zeros(sz, CV_8UC1);
  const auto P = [](double x, double y) { return cv::Point(cvRound(x), cvRound(y)); };
  cv::rectangle(body, P(cx - bwh, ytb), P(cx + bwh, yb - rr), cv::Scalar(255), cv::FILLED);
  cv::rectangle(body, P(cx - bwh + rr, yb - rr), P(cx + bwh - rr, yb), cv::Scalar(255), cv::FILLED);
  cv::circle(body, P(cx - bwh + rr, yb - rr), cvRound(rr), cv::Scalar(255), cv::FILLED);
  cv::circle(body, P(cx + bwh - rr, yb - rr), cvRound(rr), cv::Scalar(255), cv::FILLED);
  std::vector<cv::Point> shoulder = {P(cx - bwh, ytb + 1), P(cx - nh, ytb - h * 0.05), P(cx - nh, h * 0.17),
                                     P(cx + nh, h * 0.17), P(cx + nh, ytb - h * 0.05), P(cx + bwh, ytb + 1)};
  cv::fillPoly(body, std::vector<std::vector<cv::Point>>{shoulder}, cv::Scalar(255));
  // Inside: air above the liquid, liquid (darker, darker towards the bottom) below.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (!body.at<uchar>(y, x)) continue;
      const double v = y < level ? 198.0 : 150.0 - 14.0 * (y - level) / (yb - level);
      img.at<uchar>(y, x) = cv::saturate_cast<uchar>(v);
    }
  const int wall = px(2.5, L, 2);
  cv::ellipse(img, P(cx, level), cv::Size(cvRound(bwh), px(3, L)), 0, 0, 180, cv::Scalar(118), px(1.5, L), cv::LINE_AA);
  std::vector<std::vector<cv::Point>> outline;
  cv::findContours(body.clone(), outline, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(img, outline, -1, cv::Scalar(78), wall, cv::LINE_AA);
  cv::line(img, P(cx - bwh + wall + 2, ytb + 4), P(cx - bwh + wall + 2, yb - rr), cv::Scalar(240), px(1, L),
           cv::LINE_AA);  // refraction highlight
  // Crimped cap.
  const cv::Rect cap(P(cx - bwh * 0.68, h * 0.07), P(cx + bwh * 0.68, h * 0.18));
  cv::rectangle(img, cap, cv::Scalar(72), cv::FILLED);
  for (int x = cap.x + 2; x < cap.x + cap.width; x += px(3, L, 2)) cv::line(img, {x, cap.y}, {x, cap.y + cap.height}, cv::Scalar(56));
  cv::rectangle(img, cv::Rect(cap.x, cap.y, cap.width, std::max(2, cap.height / 5)), cv::Scalar(110), cv::FILLED);
  cv::erode(body, obj, cv::getStructuringElement(cv::MORPH_RECT, {2 * wall + 3, 2 * wall + 3}));
  // A slight tilt of the whole vial.
  const cv::Mat rot = cv::getRotationMatrix2D({static_cast<float>(cx), h / 2.0f}, rng.sym(2.0), 1.0);
  Scene s;
  cv::warpAffine(img, s.image, rot, sz, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::warpAffine(obj, s.object, rot, sz, cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
  add_noise(s.image, rng.next(), 2.5);
  return s;
}

cv::Mat plant_vial(Scene& s, Rng& rng) {
  const cv::Size sz = s.image.size();
  const double L = std::max(sz.width, sz.height);
  for (int attempt = 0;; ++attempt) {
    const cv::Point2d c = sample_point(s.object, rng, px(4, L));
    const double kind = rng.uni();
    cv::Mat m;
    cv::Scalar colour;
    if (kind < 0.4) {  // contamination: dark particles
      m = cv::Mat::zeros(sz, CV_8UC1);
      for (int k = rng.range(1, 4); k > 0; --k) {
        const double r = L * rng.uni(0.008, 0.018);
        m |= blob_mask(sz, c + cv::Point2d(rng.sym(L * 0.04), rng.sym(L * 0.04)), r, r * rng.uni(0.6, 1), 0, rng, 0.3);
      }
      colour = cv::Scalar(40);
    } else if (kind < 0.6) {  // fibre
      m = crack_mask(sz, c, rng.uni(0, 2 * CV_PI), L * rng.uni(0.05, 0.1), px(1.2, L), rng, 0.6);
      colour = cv::Scalar(50);
    } else {  // crack in the glass
      m = crack_mask(sz, c, rng.uni(0, 2 * CV_PI), L * rng.uni(0.08, 0.18), px(1.5, L), rng, 0.45);
      colour = cv::Scalar(48);
    }
    m = clip_to(m, s.object);
    if (!big_enough(m) && attempt < 20) continue;
    paint(s.image, m, colour, 0.92);
    return m;
  }
}

}  // namespace

CategoryDef fruit_jelly_category() {
  return {"fruit_jelly", 2100, 1520, false, 1, 1, 3, draw_fruit_jelly, plant_fruit_jelly};
}
CategoryDef vial_category() { return {"vial", 1400, 1900, true, 1, 1, 4, draw_vial, plant_vial}; }

}  // namespace advad::synth_ad2
