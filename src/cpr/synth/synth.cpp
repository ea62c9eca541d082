// synthesize(): bring the image and foreground to the synthesis size and
// dispatch to the perlin / cut-paste generators.
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "cpr/synth/internal.h"

namespace advad::cpr {
namespace synth_detail {

double uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

int uniform_int(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

}  // namespace synth_detail

SynthSample synthesize(const cv::Mat& image, const cv::Mat& foreground, const SynthSettings& settings,
                       const SynthSources& sources, std::mt19937_64& rng) {
  using namespace synth_detail;
  if (image.empty()) throw InputError("synthesize: empty image");
  if (settings.size < 1) throw InputError("synthesize: synthesis size must be >= 1");
  cv::Mat bgr;
  if (image.depth() != CV_8U) throw InputError("synthesize: the image must be 8-bit");
  if (image.channels() == 1) cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
  else if (image.channels() == 4) cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  else bgr = image;
  const cv::Size side(settings.size, settings.size);
  cv::Mat img;
  if (bgr.size() == side) img = bgr.clone();
  else cv::resize(bgr, img, side, 0, 0, cv::INTER_CUBIC);

  cv::Mat fg;
  if (foreground.empty()) {
    fg = cv::Mat::ones(side, CV_32F);
  } else {
    cv::Mat f32;
    foreground.convertTo(f32, CV_32F);
    if (f32.channels() != 1) throw InputError("synthesize: the foreground map must have one channel");
    if (f32.size() == side) fg = f32;
    else cv::resize(f32, fg, side, 0, 0, cv::INTER_NEAREST);
  }

  SynthMode mode = settings.mode;
  if (mode == SynthMode::Both) mode = uniform(rng, 0.0, 1.0) < 0.5 ? SynthMode::Perlin : SynthMode::CutPaste;
  if (mode == SynthMode::CutPaste) {
    if (sources.libraries.empty())
      throw InputError("synthesize: cut-paste needs defect patches; none were loaded (set [train] defects)");
    return synthesize_cutpaste(img, fg, sources, rng);
  }
  return synthesize_perlin(img, fg, settings, sources, rng);
}

}  // namespace advad::cpr
