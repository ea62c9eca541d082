// The eight synthetic MVTec AD 2 categories: how each scene is drawn and how
// a defect is planted into it. One family per file: surfaces.cpp (can,
// fabric, sheet_metal), transparent.cpp (fruit_jelly, vial), bulk.cpp (rice,
// wallplugs, walnuts).
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "data/synth_ad2/draw.h"

namespace advad::synth_ad2 {

// A drawn defect-free scene, RGB (CV_8UC3) or gray (CV_8UC1).
struct Scene {
  cv::Mat image;
  cv::Mat object;  // 0/255: where defects may go (the product, not the background)
  // Optional: the topmost whole object (0/255) and the image without it, so a
  // defect can remove a part of it (broken/missing parts) exactly.
  cv::Mat top, under;
};

struct CategoryDef {
  const char* name;
  int real_w, real_h;    // the real image size (mvtec_ad2.md)
  bool gray;             // single channel like the real category
  int grid_cols, grid_rows;  // the seed profile's test tiling
  int shifts;            // number of shift_N lighting conditions in test_public
  Scene (*draw)(cv::Size size, Rng& rng);
  // Changes scene.image only inside the returned 0/255 mask (non-empty).
  cv::Mat (*plant)(Scene& scene, Rng& rng);
};

// Per family; categories() lists all eight in MVTec AD 2 order.
CategoryDef can_category();
CategoryDef fabric_category();
CategoryDef sheet_metal_category();
CategoryDef fruit_jelly_category();
CategoryDef vial_category();
CategoryDef rice_category();
CategoryDef wallplugs_category();
CategoryDef walnuts_category();
const std::vector<CategoryDef>& categories();
// nullptr when unknown.
const CategoryDef* find_category(const std::string& name);

}  // namespace advad::synth_ad2
