// advadinfer's models: building an engine (profile, model, frame scorer,
// warm-up) from the element's settings, and swapping models while the stream
// runs -- a loader thread builds the new engine in the background, tells an
// advadtile upstream that follows us to tile for it, and leaves it pending
// for the frame path (advadinfer_stream.cpp) to take over between two frames.
#include "advadcommon.h"
#include "core/error.h"
#include "data/package_paths.h"
#include "gstadvadinfer_priv.h"

GST_DEBUG_CATEGORY_EXTERN(gst_advad_infer_debug);
#define GST_CAT_DEFAULT gst_advad_infer_debug

// ---------------------------------------------------------------- engines

InferEnginePtr advad_infer_build_engine(const InferSettings& s, InferEngineError* err) {
  std::string* error = &err->message;
  std::string* hint = &err->hint;
  // A model package folder holds its profile: `model=<dir>` alone is enough.
  const bool model_is_package = !s.model.empty() && g_file_test(s.model.c_str(), G_FILE_TEST_IS_DIR);
  std::string path;
  if (!advad_profile_file(!s.profile.empty() ? s.profile : (model_is_package ? s.model : ""), &path, error, hint))
    return nullptr;
  auto engine = std::make_shared<InferEngine>();
  try {
    auto profile = std::make_shared<advad::Profile>(advad::load_profile(path, s.model.empty()));
    // A category profile whose model is a package: the package's profile.ini counts (one threshold).
    bool differ = false;
    const std::string package = s.model.empty() ? advad::package_profile_path(*profile, &differ) : "";
    if (!package.empty()) {
      engine->note = "using the package profile " + package + " (model of " + path + ")" +
                     (differ ? "; its [threshold] values differ from " + path + "'s and are the ones used" : "");
      engine->warn = differ;
      profile = std::make_shared<advad::Profile>(advad::load_profile(package, true));
    }
    if (!s.model.empty() && !(model_is_package && s.profile.empty())) {
      if (!g_file_test(s.model.c_str(), G_FILE_TEST_EXISTS)) {
        *error = "Model '" + s.model + "' does not exist.";
        *hint = "Set the 'model' property to the model file or package made by `advad train` / `advad import`, or "
                "unset it to use the profile's model.";
        return nullptr;
      }
      profile->model = s.model;
    }
    engine->profile = profile;
  } catch (const std::exception& e) {
    *error = "Cannot use profile '" + path + "': " + e.what();
    *hint = ADVAD_PROFILE_FIX_HINT;
    return nullptr;
  }
  const advad::Profile& p = *engine->profile;
  advad::ModelOptions options;
  options.device = s.device;
  options.precision = gst_advad_precision_name(s.precision);
  options.threads = static_cast<int>(s.threads);
  try {
    bool shared = false;
    engine->loaded = advad::acquire_model(engine->profile, options, &shared);
    if (shared)
      GST_INFO("model %s shared: already loaded in this process", engine->loaded->identity.c_str());
    else
      GST_INFO("model %s built in %.2f s", engine->loaded->identity.c_str(), engine->loaded->load_seconds);
    engine->scorer = std::make_unique<advad::FrameScorer>(engine->profile, engine->loaded->model,
                                                          static_cast<int>(s.batch_size));
  } catch (const std::exception& e) {
    err->resource = false;
    *error = "Cannot load model '" + p.model + "': " + e.what();
    *hint = "Check that the file is a model package for method '" + p.method +
            "' made by this version of advad (profile " + p.path +
            "); re-create it with `advad train` or `advad import` if it is damaged.";
    return nullptr;
  }
  try {
    // A per-process cap of the CUDA caching allocator (the property was checked when set).
    const std::string ignored = advad::apply_cuda_memory_limit(advad::parse_cuda_memory_limit(s.cuda_memory_limit),
                                                               engine->loaded->model->device());
    if (!ignored.empty()) GST_INFO("%s", ignored.c_str());
  } catch (const std::exception& e) {
    err->resource = false;
    *error = e.what();
    *hint = "Set cuda-memory-limit to a fraction in (0, 1] or to bytes the device has, or leave it unset.";
    return nullptr;
  }
  try {
    // The first call pays one-time allocations; the second is what a frame costs.
    engine->scorer->warm_up();
    engine->warm_up_seconds = engine->scorer->warm_up();
  } catch (const std::exception& e) {
    err->resource = false;
    *error = "Model '" + p.model + "' failed on a test frame: " + e.what();
    *hint = "The model does not produce anomaly maps as profile " + p.path + " describes them (input " +
            std::to_string(p.input.width) + "x" + std::to_string(p.input.height) +
            "); check that model and profile belong together.";
    return nullptr;
  }
  return engine;
}

// ---------------------------------------------------------------- swap

// Tells an advadtile upstream that follows us to tile for `engine` from its
// next frame on. True when one took it.
static bool tell_upstream(GstAdvadInfer* self, const InferEngine& engine) {
  GstStructure* s = gst_structure_new("advad-layout-changed", "profile", G_TYPE_STRING, engine.profile->path.c_str(),
                                      "element", G_TYPE_STRING, GST_ELEMENT_NAME(self), nullptr);
  return gst_pad_push_event(GST_BASE_TRANSFORM_SINK_PAD(self),
                            gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
}

static void loader_main(GstAdvadInfer* self) {
  InferState* st = self->st;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(st->loader_mutex);
      if (!st->swap_requested || !st->started) {
        st->loader_running = false;
        return;
      }
      st->swap_requested = false;
    }
    GST_OBJECT_LOCK(self);
    const InferSettings s = st->settings;
    GST_OBJECT_UNLOCK(self);
    InferEngineError error;
    InferEnginePtr engine = advad_infer_build_engine(s, &error);
    std::string active_path;
    {
      std::lock_guard<std::mutex> lock(st->engine_mutex);
      if (st->active) active_path = st->active->loaded->identity;
    }
    if (!engine) {
      GST_ELEMENT_WARNING(self, RESOURCE, FAILED, ("Model not changed: %s", error.message.c_str()),
                          ("%s Still scoring with %s.", error.hint.c_str(), active_path.c_str()));
      continue;
    }
    GST_INFO_OBJECT(self, "loaded %s in %.2f s; handing over", engine->loaded->identity.c_str(),
                    engine->loaded->load_seconds);
    {
      std::lock_guard<std::mutex> lock(st->engine_mutex);
      st->pending = engine;
      st->handover = InferState::Handover::Unknown;
    }
    const bool followed = tell_upstream(self, *engine);
    std::lock_guard<std::mutex> lock(st->engine_mutex);
    if (st->pending == engine)
      st->handover = followed ? InferState::Handover::Coordinated : InferState::Handover::Direct;
  }
}

void advad_infer_request_swap(GstAdvadInfer* self) {
  InferState* st = self->st;
  std::lock_guard<std::mutex> lock(st->loader_mutex);
  if (!st->started) return;  // start() loads the model
  st->swap_requested = true;
  if (st->loader_running) return;  // the running loader picks the request up
  if (st->loader.joinable()) st->loader.join();
  st->loader_running = true;
  st->loader = std::thread(loader_main, self);
}

void advad_infer_join_loader(GstAdvadInfer* self) {
  InferState* st = self->st;
  std::thread loader;
  {
    std::lock_guard<std::mutex> lock(st->loader_mutex);
    st->started = false;
    st->swap_requested = false;
    loader = std::move(st->loader);
  }
  if (loader.joinable()) loader.join();
  std::lock_guard<std::mutex> lock(st->loader_mutex);
  st->loader_running = false;
}
