// advadinfer's private state, shared by its four files: gstadvadinfer.cpp
// (caps, events, queries, state changes), advadinfer_props.cpp (the
// properties), advadinfer_stream.cpp (the frame path: submit -> worker ->
// output thread) and advadinfer_models.cpp (building an engine, the
// background model swap).
#pragma once
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "advadenums.h"
#include "advadmeta.h"
#include "engine/live_stats.h"
#include "engine/model_cache.h"
#include "engine/ordered_queue.h"
#include "gstadvadinfer.h"
#include "engine/frame_scorer.h"

struct InferSettings {
  std::string profile;
  std::string model;
  std::string device = "auto";
  std::string cuda_memory_limit;  // "" = none; see advad::parse_cuda_memory_limit
  guint batch_size = 0;
  guint interval = 1;
  guint threads = 0;
  GstAdvadPrecision precision = GST_ADVAD_PRECISION_AUTO;
  guint max_unscored = 25;
  double stats_interval = 0;
  GstAdvadLatePolicy late_policy = GST_ADVAD_LATE_DROP;
};

// One model as this element uses it: the shared loaded model, this
// element's scorer over it, and the layout for the current frame size.
struct InferEngine {
  std::shared_ptr<const advad::Profile> profile;
  std::shared_ptr<const advad::LoadedModel> loaded;
  std::unique_ptr<advad::FrameScorer> scorer;  // used by the worker thread only
  double warm_up_seconds = 0;
  std::string note;   // how the profile was chosen, when not as given (logged)
  bool warn = false;  // ... and the user should see it (a WARNING)
  // Streaming thread only.
  std::shared_ptr<const advad::TileLayout> layout;
  std::string layout_error;  // why this frame size cannot be tiled ("" = fine)
};
using InferEnginePtr = std::shared_ptr<InferEngine>;

// A frame between submit and push. Kind: scored by the worker; carrying the
// last outcome (inference-interval); or decided already (unscored because
// its tile layout does not fit the model).
struct InferItem {
  enum class Kind { Score, Carry, Decided };
  GstBuffer* buf = nullptr;  // owned
  std::shared_ptr<AdvadFrameResult> result;
  InferEnginePtr engine;
  GstVideoInfo info;
  advad::PixelFormat format = advad::PixelFormat::RGB;
  Kind kind = Kind::Score;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  gint64 t_in_us = 0;
  // Set by the worker (or at submit for Decided).
  bool late = false;
  bool constant = false;
  double scoring_s = 0;
  std::shared_ptr<const advad::AnomalyMap> map;
  std::string reason, detail;

  InferItem() = default;
  InferItem(InferItem&& o) noexcept { *this = std::move(o); }
  InferItem& operator=(InferItem&& o) noexcept;
  InferItem(const InferItem&) = delete;
  InferItem& operator=(const InferItem&) = delete;
  ~InferItem() {
    if (buf) gst_buffer_unref(buf);
  }
};

// What the last scored frame gave; carried frames repeat it.
struct InferOutcome {
  bool valid = false;
  std::shared_ptr<const advad::AnomalyMap> map;
  std::string reason, detail, model_id;
  std::shared_ptr<const advad::Profile> profile;
  guint64 scored_frame = 0;
};

struct InferState {
  InferSettings settings;  // guarded by the object lock

  // The model that scores new frames, and one loaded in the background that
  // takes over between two frames (see advadinfer_models.cpp, advadinfer_stream.cpp).
  enum class Handover { Unknown, Coordinated, Direct };
  std::mutex engine_mutex;
  InferEnginePtr active, pending;
  std::string last_profile, last_model;  // of the last active engine; kept after stop for stats
  std::string run;                       // id of this run, new at each start: every frame's meta carries it
  Handover handover = Handover::Unknown;

  // Background loader for swaps.
  std::mutex loader_mutex;
  std::thread loader;
  bool loader_running = false, swap_requested = false;
  std::atomic<bool> started{false};

  // Frames in flight and the two threads that move them.
  std::unique_ptr<advad::OrderedQueue<InferItem>> queue;
  std::thread worker, output;
  std::atomic<GstFlowReturn> flow{GST_FLOW_OK};

  // Streaming thread.
  GstVideoInfo info;
  advad::PixelFormat format = advad::PixelFormat::RGB;
  guint64 frames = 0, last_score_role = 0;
  bool have_score_role = false;
  std::weak_ptr<InferEngine> last_score_engine;  // the engine and frame size of the last frame sent to score
  int last_score_w = 0, last_score_h = 0;
  gboolean warned_caps = FALSE;

  // Timing facts from events and queries (any thread).
  std::mutex timing_mutex;
  GstClockTime qos_earliest = GST_CLOCK_TIME_NONE;
  GstClockTime pipeline_latency = GST_CLOCK_TIME_NONE;  // from the LATENCY event
  GstClockTime upstream_min = 0;
  bool upstream_live = false;
  std::atomic<GstClockTime> latency{0};  // what the latency query adds

  // Output thread.
  InferOutcome last;
  guint consecutive_unscored = 0;
  gint64 last_warning_us = 0;
  guint64 warnings_suppressed = 0;
  bool warned_constant = false, warned_layout = false;
  advad::LatencyTracker latency_tracker;
  gint64 last_stats_us = 0;

  std::shared_ptr<advad::LiveStats> stats = std::make_shared<advad::LiveStats>();
};

struct _GstAdvadInfer {
  GstBaseTransform parent;
  InferState* st;
};

// advadinfer_stream.cpp
GstFlowReturn advad_infer_submit(GstBaseTransform* trans, gboolean discont, GstBuffer* buf);
GstFlowReturn advad_infer_generate(GstBaseTransform* trans, GstBuffer** outbuf);
void advad_infer_start_threads(GstAdvadInfer* self);
void advad_infer_stop_threads(GstAdvadInfer* self);
// advadinfer_models.cpp
void advad_infer_request_swap(GstAdvadInfer* self);
void advad_infer_join_loader(GstAdvadInfer* self);
// Builds an engine from settings. On failure: null, with what went wrong,
// what to do, and whether it is a file/setting problem (a RESOURCE error)
// rather than a model that does not load or run (a LIBRARY error).
struct InferEngineError {
  std::string message, hint;
  bool resource = true;
};
InferEnginePtr advad_infer_build_engine(const InferSettings& s, InferEngineError* error);
// advadinfer_stream.cpp
// Is a frame with this running time already late (QoS, or the clock for a
// live source), counting `ahead_s` seconds of work still to do?
bool advad_infer_is_late(GstAdvadInfer* self, GstClockTime running_time, double ahead_s);
// advadinfer_props.cpp: sets set_property/get_property and installs the properties.
void advad_infer_install_properties(GObjectClass* gobject_class);
// gstadvadinfer.cpp
// The stats as a GstStructure named advad-stats (caller owns).
GstStructure* advad_infer_stats_structure(GstAdvadInfer* self);
