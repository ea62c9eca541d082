#include "data/synth_ad2/contact_sheet.h"

#include <opencv2/imgproc.hpp>
#include <vector>

namespace advad::synth_ad2 {
namespace {

cv::Mat to_bgr(const cv::Mat& img) {
  cv::Mat out;
  cv::cvtColor(img, out, img.channels() == 1 ? cv::COLOR_GRAY2BGR : cv::COLOR_RGB2BGR);
  return out;
}

}  // namespace

cv::Mat contact_sheet(const std::string& title, const cv::Mat& good, const cv::Mat& bad, const cv::Mat& mask,
                      int thumb) {
  const double k = static_cast<double>(thumb) / good.rows;
  const cv::Size ts(std::max(1, cvRound(good.cols * k)), thumb);
  cv::Mat g, b, m;
  cv::resize(to_bgr(good), g, ts, 0, 0, cv::INTER_AREA);
  cv::resize(to_bgr(bad), b, ts, 0, 0, cv::INTER_AREA);
  cv::resize(mask, m, ts, 0, 0, cv::INTER_NEAREST);
  cv::Mat outlined = b.clone();
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(m, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(outlined, contours, -1, cv::Scalar(0, 0, 255), 1);
  const int gap = 4, head = 22;
  cv::Mat sheet(head + ts.height + gap, 3 * ts.width + 4 * gap, CV_8UC3, cv::Scalar(48, 48, 48));
  const cv::Mat cells[] = {g, b, outlined};
  const char* labels[] = {"good", "bad", "bad + mask"};
  for (int i = 0; i < 3; ++i) {
    const int x = gap + i * (ts.width + gap);
    cells[i].copyTo(sheet(cv::Rect(x, head, ts.width, ts.height)));
    cv::putText(sheet, i == 0 ? title + ": " + labels[i] : labels[i], {x, head - 6}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(235, 235, 235), 1, cv::LINE_AA);
  }
  return sheet;
}

}  // namespace advad::synth_ad2
