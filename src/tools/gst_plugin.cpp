#include "tools/gst_plugin.h"

#include <gst/gst.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace fs = std::filesystem;

namespace advad::tools {

// Installed plugins are found by GStreamer itself; a build tree's plugin sits
// in <build>/gst next to <build>/src/tools/advad; ADVAD_GST_PLUGIN_DIR names
// another folder.
void ensure_plugin() {
  auto found = [] {
    GstElementFactory* f = gst_element_factory_find("advadinfer");
    if (f) gst_object_unref(f);
    return f != nullptr;
  };
  if (found()) return;
  std::vector<fs::path> dirs;
  if (const char* env = g_getenv("ADVAD_GST_PLUGIN_DIR")) dirs.emplace_back(env);
  char exe[PATH_MAX] = {0};
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) dirs.push_back(fs::path(std::string(exe, static_cast<size_t>(n))).parent_path() / ".." / ".." / "gst");
  for (const auto& d : dirs)
    if (fs::exists(d / "libgstadvad.so")) gst_registry_scan_path(gst_registry_get(), d.lexically_normal().c_str());
  if (!found())
    throw Error("the advad GStreamer plugin (libgstadvad.so) was not found: run `meson install`, use "
                "`meson devenv -C <build>`, or set ADVAD_GST_PLUGIN_DIR to the folder that holds it");
}

void require_element(const char* name, const char* package) {
  GstElementFactory* f = gst_element_factory_find(name);
  if (!f) throw Error(std::string("GStreamer element '") + name + "' is missing: install " + package);
  gst_object_unref(f);
}

void print_infer_stats(GstElement* infer, std::ostream& out) {
  GstStructure* s = nullptr;
  g_object_get(infer, "stats", &s, nullptr);
  if (!s) return;
  out << "| advadinfer | |\n|---|---:|\n";
  for (int i = 0; i < gst_structure_n_fields(s); ++i) {
    const char* name = gst_structure_nth_field_name(s, i);
    const GValue* v = gst_structure_get_value(s, name);
    std::string text;
    if (G_VALUE_HOLDS_UINT64(v)) {
      const guint64 n = g_value_get_uint64(v);
      // Per-reason unscored counts only when there are some.
      if (n == 0 && std::string(name).rfind("unscored-", 0) == 0) continue;
      text = std::to_string(n);
    } else if (G_VALUE_HOLDS_DOUBLE(v)) {
      char b[32];
      std::snprintf(b, sizeof b, "%.1f", g_value_get_double(v));
      text = b;
    } else if (G_VALUE_HOLDS_STRING(v)) {
      text = g_value_get_string(v) ? g_value_get_string(v) : "";
    } else {
      continue;
    }
    out << "| " << name << " | " << text << " |\n";
  }
  gst_structure_free(s);
}

}  // namespace advad::tools
