// PRO curves of several objects drawn into one PNG with OpenCV: axes, ticks,
// labels, one coloured curve per object, the integration limits marked.
#pragma once
#include <string>
#include <vector>

#include "metrics/object_eval.h"

namespace advad {

// Renders FPR in [0, x_max] against PRO in [0, 1] (x_max: the largest limit
// when <= 0). Returns the image (CV_8UC3, BGR).
cv::Mat draw_pro_curves(const std::vector<ObjectResult>& results, double x_max = 0.0, int width = 960, int height = 640);

// draw_pro_curves + imwrite; InputError naming the file on failure.
void plot_pro_curves(const std::vector<ObjectResult>& results, const std::string& png, double x_max = 0.0);

}  // namespace advad
