// The advad GStreamer plugin as GStreamer registers it: a small stub that
// links GStreamer only. LibTorch's OpenMP runtime (libgomp) reads
// OMP_WAIT_POLICY once, when it is loaded; by default its idle threads spin,
// which on a few cores costs 1.3-3.6x the model time. A plain gst-launch-1.0
// loads this stub after the process started, before anything loaded libgomp,
// so plugin_init can still choose passive waits (unless the user set
// OMP_WAIT_POLICY or GOMP_SPINCOUNT) and only then load the element library
// (advadtile, advadinfer, advadpostproc, advadoverlay, advaddetect and
// GstAdvadMeta: advadelements.cpp and the element files, which link LibTorch).
#include <dlfcn.h>
#include <gst/gst.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "advadelements.h"

#ifndef PACKAGE
#define PACKAGE "advad"
#endif
#ifndef ADVAD_ELEMENTS_LIBDIR
#define ADVAD_ELEMENTS_LIBDIR ""
#endif

GST_DEBUG_CATEGORY_STATIC(advad_plugin_debug);
#define GST_CAT_DEFAULT advad_plugin_debug

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

// Passive OpenMP waits for this process unless the user chose otherwise, or
// libgomp is already loaded (then nothing set now takes effect).
void choose_omp_wait_policy() {
  if (env_set("OMP_WAIT_POLICY") || env_set("GOMP_SPINCOUNT")) {
    GST_INFO("OpenMP waits as the environment sets them (OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s)",
             g_getenv("OMP_WAIT_POLICY") ? g_getenv("OMP_WAIT_POLICY") : "",
             g_getenv("GOMP_SPINCOUNT") ? g_getenv("GOMP_SPINCOUNT") : "");
    return;
  }
  if (void* gomp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD)) {
    dlclose(gomp);
    GST_WARNING("libgomp (OpenMP) was loaded by this process before the advad plugin: its idle threads spin "
                "(slower on few cores) and the plugin cannot change that now; start the process with "
                "OMP_WAIT_POLICY=PASSIVE to avoid it");
    return;
  }
  g_setenv("OMP_WAIT_POLICY", "PASSIVE", FALSE);
  GST_INFO("OMP_WAIT_POLICY=PASSIVE set for this process (set OMP_WAIT_POLICY yourself to choose otherwise)");
}

// The folder of this stub: GStreamer's file name of the plugin, else the
// loader's.
std::string stub_dir(GstPlugin* plugin) {
  std::string file;
  if (const gchar* f = gst_plugin_get_filename(plugin)) {
    file = f;
  } else {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&choose_omp_wait_policy), &info) && info.dli_fname) file = info.dli_fname;
  }
  if (file.empty()) return "";
  gchar* dir = g_path_get_dirname(file.c_str());
  std::string out = dir;
  g_free(dir);
  return out;
}

gboolean fail(const std::string& why) {
  GST_ERROR("%s", why.c_str());
  g_warning("advad plugin: %s", why.c_str());
  return FALSE;
}

}  // namespace

static gboolean plugin_init(GstPlugin* plugin) {
  GST_DEBUG_CATEGORY_INIT(advad_plugin_debug, "advad", 0, "advad plugin loader (OpenMP wait policy, element library)");
  choose_omp_wait_policy();

  // Next to the stub (the build tree, or a copy of both files), else the
  // install libdir.
  const std::string here = stub_dir(plugin);
  std::vector<std::string> dirs;
  if (!here.empty()) dirs.push_back(here);
  if (*ADVAD_ELEMENTS_LIBDIR && here != ADVAD_ELEMENTS_LIBDIR) dirs.push_back(ADVAD_ELEMENTS_LIBDIR);
  std::string paths, path;
  for (const auto& d : dirs) {
    paths += (paths.empty() ? "" : ":") + d;
    const std::string candidate = d + "/" ADVAD_GST_ELEMENTS_FILE;
    if (path.empty() && g_file_test(candidate.c_str(), G_FILE_TEST_EXISTS)) path = candidate;
  }
  // The registry rescans the plugin when the element library changes.
  gst_plugin_add_dependency_simple(plugin, nullptr, paths.c_str(), ADVAD_GST_ELEMENTS_FILE,
                                   GST_PLUGIN_DEPENDENCY_FLAG_NONE);
  if (path.empty())
    return fail("the element library " ADVAD_GST_ELEMENTS_FILE " is not in " + (paths.empty() ? "(no folder)" : paths) +
                ": install both libraries (meson install) or keep it next to the plugin");

  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);  // never closed, like GStreamer's plugins
  if (!lib) {
    const char* e = dlerror();
    return fail("cannot load the element library " + path + ": " + (e ? e : "unknown error"));
  }
  using VersionFn = const char* (*)();
  using RegisterFn = gboolean (*)(GstPlugin*);
  auto version = reinterpret_cast<VersionFn>(dlsym(lib, ADVAD_GST_VERSION_SYMBOL));
  auto register_elements = reinterpret_cast<RegisterFn>(dlsym(lib, ADVAD_GST_REGISTER_SYMBOL));
  if (!version || !register_elements)
    return fail("the element library " + path + " is not advad's (no " ADVAD_GST_REGISTER_SYMBOL ")");
  if (std::strcmp(version(), ADVAD_VERSION) != 0)
    return fail("the element library " + path + " is version " + version() + ", the plugin " ADVAD_VERSION +
                ": install both from one build");
  if (!register_elements(plugin)) return fail("the element library " + path + " registered no element");
  GST_INFO("elements registered from %s", path.c_str());
  return TRUE;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, advad,
                  "Visual anomaly detection on video: tiling, LibTorch inference, post-processing, overlay",
                  plugin_init, ADVAD_VERSION, "LGPL", "advad", "https://github.com/advad/advad")
