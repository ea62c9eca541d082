// Text in the metrics plots (PRO curves, threshold sweeps): OpenCV's simplex
// font, anti-aliased, aligned left (0), centred (1) or right (2) on `at`.
#pragma once
#include <opencv2/imgproc.hpp>
#include <string>

namespace advad {

inline void plot_text(cv::Mat& img, const std::string& s, cv::Point at, double scale, cv::Scalar colour,
                      int align = 0) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
  if (align == 1) at.x -= sz.width / 2;
  if (align == 2) at.x -= sz.width;
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

}  // namespace advad
