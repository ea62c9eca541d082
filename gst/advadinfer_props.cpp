// advadinfer's properties: the list with their documentation (gst-inspect-1.0
// shows these blurbs), the checks of values GLib lets through, and the
// settings they set. Setting `profile` or `model` while running asks
// advadinfer_models.cpp for a swap.
#include <cmath>

#include "advadcommon.h"
#include "gstadvadinfer_priv.h"

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_BATCH_SIZE,
  PROP_INTERVAL,
  PROP_THREADS,
  PROP_PRECISION,
  PROP_MAX_UNSCORED,
  PROP_STATS,
  PROP_STATS_INTERVAL,
  PROP_LATE_POLICY,
  PROP_MODEL_ID,
  PROP_CUDA_MEMORY_LIMIT,
};

// "auto", "cpu", "cuda" or "cuda:N" (N a non-negative integer, nothing after it).
static bool device_ok(const std::string& d) {
  if (d == "auto" || d == "cpu" || d == "cuda") return true;
  if (d.rfind("cuda:", 0) != 0 || d.size() == 5) return false;
  for (size_t i = 5; i < d.size(); ++i)
    if (d[i] < '0' || d[i] > '9') return false;
  return d.size() <= 9;
}

// Values GLib lets through (the ranges are wide on purpose) that the element
// cannot use: recorded, reported at READY->PAUSED (see advadcommon.h).
static bool reject(GstAdvadInfer* self, GParamSpec* pspec, const GValue* value) {
  const char* name = pspec->name;
  switch (pspec->param_id) {
    case PROP_DEVICE: {
      const std::string d = advad_value_string(value);
      if (d.empty() || device_ok(d)) return false;
      advad_reject_property(GST_ELEMENT(self), name, d, "auto, cpu, cuda or cuda:N (N = 0, 1, ...)");
      return true;
    }
    case PROP_CUDA_MEMORY_LIMIT: {
      const std::string v = advad_value_string(value);
      try {
        advad::parse_cuda_memory_limit(v);
        return false;
      } catch (const std::exception&) {
        advad_reject_property(GST_ELEMENT(self), name, v,
                              "0 or empty (no limit), a fraction of the device's memory in (0, 1] such as 0.5, or "
                              "bytes >= 1 MiB with an optional K/M/G/T suffix (powers of 1024) such as 6G");
        return true;
      }
    }
    case PROP_BATCH_SIZE:
      if (g_value_get_uint(value) <= 4096) return false;
      advad_reject_property(GST_ELEMENT(self), name, std::to_string(g_value_get_uint(value)),
                            "0 (all tiles of a frame in one call) to 4096");
      return true;
    case PROP_INTERVAL: {
      // The top half of the type is refused too: gst-launch-1.0 reads "-1" as G_MAXUINT.
      const guint v = g_value_get_uint(value);
      if (v >= 1 && v <= static_cast<guint>(G_MAXINT)) return false;
      advad_reject_property(GST_ELEMENT(self), name, std::to_string(v), "1 (every frame) to 2147483647");
      return true;
    }
    case PROP_THREADS:
      if (g_value_get_uint(value) <= 1024) return false;
      advad_reject_property(GST_ELEMENT(self), name, std::to_string(g_value_get_uint(value)),
                            "0 (all cores) to 1024");
      return true;
    case PROP_STATS_INTERVAL: {
      const double v = g_value_get_double(value);
      if (std::isfinite(v) && v >= 0 && v <= 86400) return false;
      advad_reject_property(GST_ELEMENT(self), name, advad_double_text(v), "0 (off) to 86400 seconds");
      return true;
    }
    default:
      return false;
  }
}

static void gst_advad_infer_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_INFER(object);
  if (reject(self, pspec, value)) return;
  advad_accept_property(GST_ELEMENT(self), pspec->name);
  bool swap = false;
  GST_OBJECT_LOCK(self);
  InferSettings& s = self->st->settings;
  switch (id) {
    case PROP_PROFILE:
      swap = s.profile != advad_value_string(value);
      s.profile = advad_value_string(value);
      break;
    case PROP_MODEL:
      swap = s.model != advad_value_string(value);
      s.model = advad_value_string(value);
      break;
    case PROP_DEVICE: s.device = advad_value_string(value).empty() ? "auto" : advad_value_string(value); break;
    case PROP_CUDA_MEMORY_LIMIT: s.cuda_memory_limit = advad_value_string(value); break;
    case PROP_BATCH_SIZE: s.batch_size = g_value_get_uint(value); break;
    case PROP_INTERVAL: s.interval = g_value_get_uint(value); break;
    case PROP_THREADS: s.threads = g_value_get_uint(value); break;
    case PROP_PRECISION: s.precision = static_cast<GstAdvadPrecision>(g_value_get_enum(value)); break;
    case PROP_MAX_UNSCORED: s.max_unscored = g_value_get_uint(value); break;
    case PROP_STATS_INTERVAL: s.stats_interval = g_value_get_double(value); break;
    case PROP_LATE_POLICY: s.late_policy = static_cast<GstAdvadLatePolicy>(g_value_get_enum(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
  if (swap) advad_infer_request_swap(self);  // only while PAUSED or PLAYING
}

static std::string active_identity(GstAdvadInfer* self) {
  std::lock_guard<std::mutex> lock(self->st->engine_mutex);
  return self->st->last_model;
}

static void gst_advad_infer_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_INFER(object);
  if (id == PROP_STATS) {
    g_value_take_boxed(value, advad_infer_stats_structure(self));
    return;
  }
  if (id == PROP_MODEL_ID) {
    g_value_set_string(value, active_identity(self).c_str());
    return;
  }
  GST_OBJECT_LOCK(self);
  const InferSettings& s = self->st->settings;
  switch (id) {
    case PROP_PROFILE: g_value_set_string(value, s.profile.c_str()); break;
    case PROP_MODEL: g_value_set_string(value, s.model.c_str()); break;
    case PROP_DEVICE: g_value_set_string(value, s.device.c_str()); break;
    case PROP_CUDA_MEMORY_LIMIT: g_value_set_string(value, s.cuda_memory_limit.c_str()); break;
    case PROP_BATCH_SIZE: g_value_set_uint(value, s.batch_size); break;
    case PROP_INTERVAL: g_value_set_uint(value, s.interval); break;
    case PROP_THREADS: g_value_set_uint(value, s.threads); break;
    case PROP_PRECISION: g_value_set_enum(value, s.precision); break;
    case PROP_MAX_UNSCORED: g_value_set_uint(value, s.max_unscored); break;
    case PROP_STATS_INTERVAL: g_value_set_double(value, s.stats_interval); break;
    case PROP_LATE_POLICY: g_value_set_enum(value, s.late_policy); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

void advad_infer_install_properties(GObjectClass* gobject_class) {
  gobject_class->set_property = gst_advad_infer_set_property;
  gobject_class->get_property = gst_advad_infer_get_property;

  advad_install_profile_property(
      gobject_class, PROP_PROFILE,
      "Path of the category profile (.ini) or model package folder: model, input size, normalisation and tiling. "
      "Needed unless 'model' names a package folder. Setting it while PAUSED or PLAYING loads the new model in the "
      "background (the stream keeps flowing on the old one), swaps it in between two frames and posts an "
      "advad-model-changed message; a load that fails posts a WARNING and the old model keeps scoring.",
      ADVAD_PARAM_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Model file or package folder to score with, overriding the profile's model key; a package "
                          "folder alone (without 'profile') also supplies the profile in its profile.ini. Changeable "
                          "while PLAYING, as 'profile'.",
                          "", ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Where the model runs: auto (the first CUDA device if there is one, else the CPU), cpu, "
                          "cuda or cuda:N.",
                          "auto", ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_CUDA_MEMORY_LIMIT,
      g_param_spec_string("cuda-memory-limit", "CUDA memory limit",
                          "Cap on the GPU memory LibTorch's CUDA caching allocator may hold for this process on the "
                          "model's device (per process: the last element to load a model sets it): empty or 0 = no "
                          "limit, a fraction of the device's memory in (0, 1] (0.5), or bytes >= 1 MiB with an "
                          "optional K/M/G/T suffix, powers of 1024 (6G). Allocations beyond it fail with an out-of-"
                          "memory error instead of taking the whole GPU. Ignored (INFO log) when the model runs on "
                          "the CPU.",
                          "", ADVAD_PARAM_READY));
  // Number ranges below are mostly the type's: the element itself rejects what it cannot use
  // (an ERROR naming the value at READY->PAUSED) instead of GLib warning and keeping the old value.
  // Counts with no use limit stop at G_MAXINT, so gst-launch's "-1" (parsed as the unsigned
  // maximum) is out of range and GLib names the property instead of taking it as a huge count.
  g_object_class_install_property(
      gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
                        "Tiles scored per model call, 0..4096; 0 scores all tiles of a frame in one call (fastest, "
                        "most memory).",
                        0, G_MAXUINT, 0, static_cast<GParamFlags>(ADVAD_PARAM_READY | G_PARAM_LAX_VALIDATION)));
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint("inference-interval", "Inference interval",
                        "Score one frame in every N: 1 scores every frame; with N > 1 the frames in between carry "
                        "the last map and are marked carried in the meta, bus messages and JSON lines, so the video "
                        "can flow at up to N times the model's frame rate. 1..2147483647.",
                        0, G_MAXUINT, 1, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_THREADS,
      g_param_spec_uint("threads", "Threads",
                        "LibTorch intra-op threads for CPU scoring, 0..1024; 0 uses all cores. The setting is "
                        "process-wide.",
                        0, G_MAXUINT, 0, static_cast<GParamFlags>(ADVAD_PARAM_READY | G_PARAM_LAX_VALIDATION)));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
                        "Arithmetic precision of the model. auto (default): the profile's [profile] precision if "
                        "it sets one, else bf16 where the device has native bf16 (CPU: avx512_bf16 or amx_bf16 in "
                        "/proc/cpuinfo; CUDA: compute capability 8+) and the method has a bf16 path (INP-Former), "
                        "else fp32. fp16 needs CUDA; int8 is INP-Former on the CPU only. An explicit value "
                        "overrides the profile.",
                        GST_TYPE_ADVAD_PRECISION, GST_ADVAD_PRECISION_AUTO, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_MAX_UNSCORED,
      g_param_spec_uint("max-unscored", "Maximum unscored frames",
                        "A frame whose map has a NaN or infinity, has the wrong shape, or whose scoring failed is "
                        "marked unscored (never ok) and the first one posts a WARNING; after this many unscored "
                        "frames in a row the element posts an ERROR. 0 = never; 0..2147483647.",
                        0, G_MAXINT, 25, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Read-only advad-stats structure: frames-in, scored, carried, dropped-late, unscored (and "
                         "unscored-non-finite / -wrong-shape / -model-error / -layout-mismatch), suspicious-constant "
                         "(maps constant over the whole frame), defects (counted by advadpostproc), model-swaps, "
                         "scoring-p50-ms, scoring-p95-ms, latency-ms (reported), profile, model.",
                         GST_TYPE_STRUCTURE, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_double("stats-interval", "Statistics interval",
                          "Post the stats as an element message named advad-stats every this many seconds, 0..86400; "
                          "0 = off.",
                          -INFINITY, INFINITY, 0, ADVAD_PARAM_PLAYING_CHECKED));
  g_object_class_install_property(
      gobject_class, PROP_LATE_POLICY,
      g_param_spec_enum("late-frames", "Late frames",
                        "What to do with a frame that is already too late to be shown in time (downstream QoS, or "
                        "with a live source the clock: running time + pipeline latency has passed), before the "
                        "model spends time on it. Either way it is counted in the stats.",
                        GST_TYPE_ADVAD_LATE_POLICY, GST_ADVAD_LATE_DROP, ADVAD_PARAM_PLAYING));
  g_object_class_install_property(
      gobject_class, PROP_MODEL_ID,
      g_param_spec_string("model-id", "Model identity",
                          "Read-only: the model scoring now (after the element stopped: the last one), as <model "
                          "path>@<first 12 hex digits of the SHA-256 of its profile and files>. Each frame's result "
                          "carries the identity of the model that scored it.",
                          "", static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}
