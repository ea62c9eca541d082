// One JSON line per frame: what advadoverlay's json-location and `advad run
// --json` write. Field reference: gst/README.md ("JSON lines").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/postproc.h"

namespace advad {

struct FrameRecord {
  std::uint64_t frame = 0;                 // frame number, counted from 0 by the scoring element
  std::optional<std::int64_t> pts_ns;      // stream timestamp (absent when the frame has none)
  double wall_time = 0.0;                  // UNIX seconds when the line was made
  std::string source;                      // free text naming the stream ("" = left out)
  std::string run;                         // id of the pipeline run ("" = left out); (run, frame) is unique
  std::string category;                    // the scoring profile's category ("" = left out)
  int width = 0, height = 0;
  bool scored = false;                     // false: no usable anomaly map for this frame
  std::string unscored_reason;             // why not (advadinfer's reason; "no-result" when nothing scored it)
  std::string model;                       // identity of the model that scored it ("" = left out)
  bool carried = false;                    // result held from an earlier frame (inference-interval)
  std::uint64_t scored_frame = 0;          // the frame the result was computed on
  float score = 0.f;                       // on the threshold's scale: max of the thresholded map
  std::optional<float> image_score;        // the method's own image score
  std::optional<double> threshold;         // set when post-processing ran
  std::optional<bool> anomalous;           // verdict, set when post-processing ran
  std::vector<Region> regions;
  std::string clip;                        // defect clip file that holds this frame ("" = left out)
  bool with_contours = false;              // add each region's contour points
};

// UTC ISO 8601 with milliseconds, e.g. "2026-05-04T10:11:12.345Z".
std::string iso8601_utc(double unix_seconds);
// Seconds since the UNIX epoch, now.
double wall_clock_now();

// A single line of JSON (no newline at the end).
std::string frame_json_line(const FrameRecord& r);

}  // namespace advad
