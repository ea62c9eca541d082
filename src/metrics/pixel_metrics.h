// Pixel-level threshold-free metrics of one object and split: the PRO curve
// and its normalised areas (AU-PRO) and the pixel ROC AUC, identical to the
// MVTec AD evaluation code (compute_pro + trapezoid).
//
// Two modes give the same numbers where both apply:
//  Exact: keeps every score and sorts (4 bytes per normal pixel, 12 per
//    defect pixel); exact for any float map, as the reference.
//  Float16: a histogram over the 65,536 float16 values (per value: normal
//    pixel count, defect pixel count, sum of 1/|region| of the defect pixels).
//    Memory is ~2 MiB whatever the number of images. Maps are rounded to
//    float16 first (round to nearest even); that is exactly what the MVTec AD
//    2 server evaluates, and exact for maps stored as float16 TIFFs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace advad {

enum class PixelMode { Exact, Float16 };
std::string to_string(PixelMode m);
PixelMode parse_pixel_mode(const std::string& s);  // "exact" | "float16"; InputError otherwise

struct CurvePoints {
  std::vector<double> fpr, pro;
};

struct PixelMetrics {
  uint64_t normal_pixels = 0;     // N_ok: ground-truth normal pixels of all images
  uint64_t defect_pixels = 0;
  uint64_t regions = 0;           // 8-connected ground-truth regions of all images
  uint64_t distinct_scores = 0;   // curve points without (0,0) and (1,1)
  std::vector<std::pair<double, double>> au_pro;  // (limit, area / limit); NaN when there is no region
  double pixel_auroc = 0.0;       // NaN without normal or defect pixels
  CurvePoints plot_curve;         // the PRO curve up to plot_limit, thinned to <= ~4000 points
  CurvePoints full_curve;         // every point incl. (0,0) and (1,1); only with keep_full_curve
  double au_pro_at(double limit) const;  // NaN when that limit was not asked for
};

struct PixelOptions {
  PixelMode mode = PixelMode::Float16;
  std::vector<double> limits{0.05, 0.3};  // integration limits in (0, 1]
  double plot_limit = 0.3;                // the plotted curve stops here
  bool keep_full_curve = false;           // tests: the whole reference curve
};

class PixelAccumulator {
 public:
  explicit PixelAccumulator(PixelOptions options = {});
  ~PixelAccumulator();
  PixelAccumulator(PixelAccumulator&&) noexcept;
  PixelAccumulator& operator=(PixelAccumulator&&) noexcept;

  // map: CV_32FC1 scores; gt: CV_8UC1 (non-zero = defect) of the same size or
  // empty for an all-normal image. InputError (naming `name`) on NaN scores or
  // size mismatch.
  void add(const cv::Mat& map, const cv::Mat& gt, const std::string& name = "");
  // The same for float16 bit patterns (CV_16UC1, as read_half_tiff_bits gives).
  void add_half(const cv::Mat& half_bits, const cv::Mat& gt, const std::string& name = "");

  // Sorts in place in exact mode (no copy of the scores); may be called again.
  PixelMetrics finish();
  const PixelOptions& options() const { return options_; }
  // Bytes held for the scores so far (the memory figure of the mode).
  size_t bytes_held() const;

 private:
  struct Exact;
  struct Hist;
  PixelOptions options_;
  std::unique_ptr<Exact> exact_;
  std::unique_ptr<Hist> hist_;
  uint64_t regions_ = 0;
};

}  // namespace advad
