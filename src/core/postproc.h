// Post-processing: plain functions over cv::Mat, in the seed's order
// (blur -> threshold -> foreground gate -> close + fill holes (with fallback) -> erode -> min area).
#pragma once
#include <opencv2/core.hpp>
#include <vector>

#include "core/profile.h"

namespace advad {

struct Region {
  cv::Rect box;
  int area = 0;            // pixels in the mask
  float max_score = 0.f;   // of the float map inside the region
  float mean_score = 0.f;
  std::vector<cv::Point> contour;  // outer contour, frame pixels
};

struct Detection {
  cv::Mat mask;                 // CV_8U, 0/255, frame size
  std::vector<Region> regions;  // 8-connected components of mask
  bool anomalous = false;       // verdict: any region left
  // On the threshold's scale: the maximum of the map that was thresholded
  // (after the blur), so a frame with a region always has score >= threshold.
  float score = 0.f;
  float image_score = 0.f;      // the method's own image score (CPR top-T sum, INP-Former top-1 % mean, ...)
};

cv::Mat threshold_map(const cv::Mat& map, double threshold);          // s >= threshold -> 255
cv::Mat close_mask(const cv::Mat& mask, int kw, int kh);               // MORPH_RECT, default anchor
cv::Mat erode_mask(const cv::Mat& mask, int kw, int kh);
cv::Mat fill_holes(const cv::Mat& mask);                               // flood fill from (0,0), 4-conn
// The seed's close + fill with the ">fraction white -> keep input" fallback.
cv::Mat close_and_fill(const cv::Mat& mask, int kw, int kh, double fallback_fraction);
cv::Mat remove_small_regions(const cv::Mat& mask, int min_area);
// k=2 k-means on (H,V) of an RGB frame (OpenCV 8-bit HSV); the lower-mean-V
// cluster is background; the foreground is dilated by a dilate x dilate square.
// k-means++ seeding, 10 restarts, fixed seed; runs on the (H,V) histogram with
// counts as weights, which clusters exactly like running on every pixel.
cv::Mat foreground_mask(const cv::Mat& frame_rgb, int dilate);
std::vector<Region> find_regions(const cv::Mat& mask, const cv::Mat& map);

// The whole chain. frame_rgb may be empty unless spec.foreground_gate is set.
Detection postprocess(const cv::Mat& map, float frame_score, double threshold, const PostprocSpec& spec,
                      const cv::Mat& frame_rgb = cv::Mat());

}  // namespace advad
