// Ground-truth regions as the MVTec AD evaluation code defines them:
// 8-connected components of the non-zero mask pixels (scipy.ndimage.label
// with a 3x3 all-ones structure).
#pragma once
#include <opencv2/core.hpp>
#include <vector>

namespace advad {

struct GtRegions {
  cv::Mat labels;                // CV_32S: 0 = normal, k = region k (1-based)
  std::vector<int64_t> sizes;    // sizes[k] = pixels of region k; sizes[0] = normal pixels
  int count() const { return static_cast<int>(sizes.size()) - 1; }
};

// mask: CV_8UC1, any non-zero pixel is anomalous.
GtRegions label_regions(const cv::Mat& mask);

}  // namespace advad
