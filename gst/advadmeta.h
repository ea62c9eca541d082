// GstAdvadMeta: the advad elements' per-frame results, attached to the frame
// buffer. It holds a refcounted pointer to an immutable C++ result, so a
// buffer copy (tee, make_writable) shares the map instead of copying it.
// An element that adds to the result makes a new one (copy of a few shared
// pointers) and replaces the pointer: copy-on-write, never mutation.
#pragma once
#include <gst/gst.h>

#include <memory>
#include <string>

#include "core/postproc.h"
#include "core/profile.h"
#include "core/tile_layout.h"
#include "engine/live_stats.h"

// A frame is "unscored" when unscored_reason is set: the map is then null and
// no element may turn the frame into an "ok" verdict.
struct AdvadFrameResult {
  std::shared_ptr<const advad::Profile> profile;      // profile the layout / map were made with
  std::shared_ptr<const advad::TileLayout> layout;    // advadtile (or advadinfer without advadtile)
  std::shared_ptr<const advad::AnomalyMap> map;       // advadinfer: stitched map + frame score
  guint64 frame_number = 0;                           // advadinfer's frame count, from 0
  std::string run;                                    // advadinfer: id of its run (new at each start); (run, frame) is unique
  bool carried = false;                               // map held from an earlier frame (inference-interval / QoS)
  guint64 scored_frame = 0;                           // frame number the map was computed on
  std::string unscored_reason;                        // advadinfer: why there is no usable map ("" = scored)
  std::string unscored_detail;                        // one line for logs
  std::string model_id;                               // advadinfer: "<model path>@<hash>" that scored it
  std::shared_ptr<advad::LiveStats> stats;            // advadinfer's counters; advadpostproc adds verdicts
  double threshold = 0.0;                             // advadpostproc: threshold used
  std::shared_ptr<const advad::Detection> detection;  // advadpostproc: mask, regions, verdict
  std::string clip;                                   // advadclip: clip file written for this defect frame
};
using AdvadResultPtr = std::shared_ptr<const AdvadFrameResult>;

struct GstAdvadMeta {
  GstMeta meta;
  AdvadResultPtr* result;  // never null while attached
};

GType gst_advad_meta_api_get_type(void);
#define GST_ADVAD_META_API_TYPE (gst_advad_meta_api_get_type())
const GstMetaInfo* gst_advad_meta_get_info(void);
#define GST_ADVAD_META_INFO (gst_advad_meta_get_info())

// The frame's result, or null when the buffer carries none.
AdvadResultPtr gst_advad_meta_get_result(GstBuffer* buffer);
// Attach or replace the result. `buffer` must be writable.
void gst_advad_meta_set_result(GstBuffer* buffer, AdvadResultPtr result);
// A fresh, modifiable copy of the buffer's result (empty when none).
std::shared_ptr<AdvadFrameResult> gst_advad_meta_copy_result(GstBuffer* buffer);
