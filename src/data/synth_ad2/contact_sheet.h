// A contact sheet for checking a synthetic category by eye.
#pragma once
#include <opencv2/core.hpp>
#include <string>

namespace advad::synth_ad2 {

// One row, BGR: good | bad | bad with the mask outlined in red, each scaled
// to `thumb` px high, under a title line. Inputs RGB or gray.
cv::Mat contact_sheet(const std::string& title, const cv::Mat& good, const cv::Mat& bad, const cv::Mat& mask,
                      int thumb = 200);

}  // namespace advad::synth_ad2
