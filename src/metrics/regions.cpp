#include "metrics/regions.h"

#include <opencv2/imgproc.hpp>

namespace advad {

GtRegions label_regions(const cv::Mat& mask) {
  CV_Assert(mask.type() == CV_8UC1);
  GtRegions r;
  cv::Mat stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask != 0, r.labels, stats, centroids, 8, CV_32S);
  r.sizes.resize(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) r.sizes[static_cast<size_t>(k)] = stats.at<int>(k, cv::CC_STAT_AREA);
  return r;
}

}  // namespace advad
