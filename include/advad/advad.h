// libadvad's public API: load a category profile, score 8-bit frames, read the
// anomaly map, the post-processed mask, the defect regions and the verdict.
// The same chain as advadinfer -> advadpostproc and `advad run` / `advad
// predict` (tiles -> model -> stitch -> threshold + morphology + min area), so
// the library gives their answers. C++17, standard types only: no LibTorch,
// GLib or OpenCV headers are needed to use it (docs/library.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "advad/error.h"

namespace advad {

// Pixel layout of a frame: 8 bits per channel, channels interleaved.
enum class ImageFormat { Gray8, RGB8, BGR8 };

// Caller-owned pixels; the library reads them during score() only.
struct ImageView {
  const std::uint8_t* data = nullptr;
  int width = 0, height = 0;
  std::size_t stride = 0;  // bytes from one row to the next; 0 = rows packed (width * channels)
  ImageFormat format = ImageFormat::RGB8;
};

struct DetectorOptions {
  std::string device = "auto";     // auto | cpu | cuda | cuda:N
  std::string precision = "auto";  // auto | fp32 | fp16 | bf16 | int8 (auto: as `advad run`)
  int threads = 0;                 // intra-op CPU threads; 0 = all cores
  int batch = 0;                   // tiles per model call; 0 = all tiles of a frame at once
  std::string split;               // the profile's [threshold] / [postproc.<split>] set; "" = the defaults
};

struct DefectRegion {
  int x = 0, y = 0, width = 0, height = 0;  // bounding box, frame pixels
  int area = 0;                             // pixels of the region in the mask
  float max_score = 0.f;                    // of the anomaly map inside the region
  float mean_score = 0.f;
};

struct FrameResult {
  int width = 0, height = 0;          // the frame's size; map and mask have it too
  std::vector<float> anomaly_map;     // row-major, model score units (the threshold's scale)
  std::vector<std::uint8_t> mask;     // row-major, 255 = defect pixel after post-processing, else 0
  std::vector<DefectRegion> regions;  // 8-connected components of mask
  bool anomalous = false;             // verdict: any region left after post-processing
  float score = 0.f;                  // frame score: max of the thresholded map (>= threshold when anomalous)
  float image_score = 0.f;            // the method's own image score
  double threshold = 0.0;             // the threshold applied
};

// One loaded profile and model. Models are shared between detectors of the
// same profile and options in a process. score() on one Detector is not
// reentrant: use one Detector per thread (they share the weights).
class Detector {
 public:
  // profile: a profile (.ini) or a model package folder holding profile.ini.
  // Throws advad::Error naming the file, key or value at fault.
  explicit Detector(const std::string& profile, const DetectorOptions& options = DetectorOptions());
  ~Detector();
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Any frame size the profile's tiling accepts (every grid must fit the
  // frame); throws advad::Error for a frame it cannot score.
  FrameResult score(const ImageView& frame);

  std::string profile_path() const;  // the .ini actually used (a package's own profile.ini if it has one)
  std::string category() const;
  std::string model_description() const;  // one line: method, size, device, precision
  double threshold() const;               // of the selected split

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string version();  // libadvad's version, e.g. "0.1.0"

}  // namespace advad
