#include "reproduce/run_profile.h"

#include <glib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"

namespace advad::reproduce {
namespace fs = std::filesystem;

namespace {

using KeyFile = std::unique_ptr<GKeyFile, decltype(&g_key_file_free)>;

KeyFile new_keyfile() { return KeyFile(g_key_file_new(), &g_key_file_free); }

KeyFile parse_keyfile(const std::string& text, const std::string& what) {
  KeyFile k = new_keyfile();
  GError* err = nullptr;
  if (!g_key_file_load_from_data(k.get(), text.data(), text.size(), G_KEY_FILE_KEEP_COMMENTS, &err)) {
    const std::string msg = err ? err->message : "unknown error";
    g_clear_error(&err);
    throw InputError(what + ": " + msg);
  }
  return k;
}

std::string to_text(GKeyFile* k) {
  gsize n = 0;
  gchar* data = g_key_file_to_data(k, &n, nullptr);
  std::string s(data ? data : "", n);
  g_free(data);
  return s;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError("cannot read the profile '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string get(GKeyFile* k, const char* group, const char* key) {
  gchar* v = g_key_file_get_string(k, group, key, nullptr);
  std::string s = v ? v : "";
  g_free(v);
  return s;
}

void set(GKeyFile* k, const std::string& group, const std::string& key, const std::string& value) {
  g_key_file_set_string(k, group.c_str(), key.c_str(), value.c_str());
}

bool known_method(const std::string& m) { return m == "inpformer" || m == "cpr" || m == "torchscript"; }

}  // namespace

ProfileOverride parse_override(const std::string& text) {
  const auto eq = text.find('=');
  const std::string form = "expected [METHOD:]GROUP.KEY=VALUE, e.g. train.iterations=50 or cpr:train.steps=20";
  if (eq == std::string::npos) throw InputError("override '" + text + "': no '='; " + form);
  ProfileOverride o;
  o.text = text;
  std::string lhs = text.substr(0, eq);
  o.value = text.substr(eq + 1);
  const auto colon = lhs.find(':');
  if (colon != std::string::npos) {
    o.method = lhs.substr(0, colon);
    lhs = lhs.substr(colon + 1);
    if (!known_method(o.method))
      throw InputError("override '" + text + "': unknown method '" + o.method + "' (inpformer, cpr, torchscript)");
  }
  const auto dot = lhs.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == lhs.size())
    throw InputError("override '" + text + "': no GROUP.KEY; " + form);
  o.group = lhs.substr(0, dot);
  o.key = lhs.substr(dot + 1);
  return o;
}

std::vector<ProfileOverride> read_override_file(const std::string& path) {
  std::string text;
  try {
    text = read_text(path);
  } catch (const InputError&) {
    throw InputError("cannot read the override file '" + path + "'");
  }
  KeyFile k = parse_keyfile(text, "override file '" + path + "'");
  std::vector<ProfileOverride> out;
  gsize ngroups = 0;
  gchar** groups = g_key_file_get_groups(k.get(), &ngroups);
  for (gsize i = 0; i < ngroups; ++i) {
    gsize nkeys = 0;
    gchar** keys = g_key_file_get_keys(k.get(), groups[i], &nkeys, nullptr);
    for (gsize j = 0; j < nkeys; ++j) {
      const std::string line = std::string(groups[i]) + "." + keys[j] + "=" + get(k.get(), groups[i], keys[j]);
      try {
        out.push_back(parse_override(line));
      } catch (const InputError& e) {
        g_strfreev(keys);
        g_strfreev(groups);
        throw InputError("override file '" + path + "': " + e.what());
      }
    }
    g_strfreev(keys);
  }
  g_strfreev(groups);
  return out;
}

std::string method_of(const std::string& profile_text) {
  try {
    KeyFile k = parse_keyfile(profile_text, "profile");
    return get(k.get(), "profile", "method");
  } catch (const InputError&) {
    return "";
  }
}

std::string make_run_profile(const std::string& source_ini, const std::vector<ProfileOverride>& overrides,
                             const std::string& model, const std::string& data) {
  KeyFile k = parse_keyfile(read_text(source_ini), "profile '" + source_ini + "'");
  const fs::path base = fs::absolute(source_ini).parent_path();
  // Paths relative to the seed profile stay valid from the run folder.
  for (const char* key : {"encoder_weights", "backbone_weights", "defects", "init"}) {
    const std::string v = get(k.get(), "train", key);
    if (v.empty() || v == "random" || fs::path(v).is_absolute()) continue;
    set(k.get(), "train", key, (base / v).lexically_normal().string());
  }
  set(k.get(), "profile", "model", model);
  if (g_key_file_has_group(k.get(), "train")) set(k.get(), "train", "data", data);
  // Keep [threshold] default only (see the header).
  gsize n = 0;
  gchar** keys = g_key_file_get_keys(k.get(), "threshold", &n, nullptr);
  for (gsize i = 0; keys && i < n; ++i)
    if (std::string(keys[i]) != "default") g_key_file_remove_key(k.get(), "threshold", keys[i], nullptr);
  g_strfreev(keys);
  const std::string method = get(k.get(), "profile", "method");
  for (const auto& o : overrides) {
    if (!o.method.empty() && o.method != method) continue;
    if (o.value.empty())
      g_key_file_remove_key(k.get(), o.group.c_str(), o.key.c_str(), nullptr);
    else
      set(k.get(), o.group, o.key, o.value);
  }
  return "# Made by advad reproduce from " + fs::absolute(source_ini).lexically_normal().string() +
         " and the run's overrides.\n" + to_text(k.get());
}

std::string make_package_profile(const std::string& run_profile_text, std::optional<double> threshold,
                                 const std::vector<std::pair<std::string, std::string>>& calibration) {
  KeyFile k = parse_keyfile(run_profile_text, "run profile");
  set(k.get(), "profile", "model", ".");
  if (threshold) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *threshold);
    set(k.get(), "threshold", "default", buf);
  }
  for (const auto& [key, value] : calibration) set(k.get(), "calibration", key, value);
  return to_text(k.get());
}

std::string without_threshold(const std::string& profile_text) {
  KeyFile k = parse_keyfile(profile_text, "run profile");
  g_key_file_remove_group(k.get(), "threshold", nullptr);
  return to_text(k.get());
}

std::string training_part(const std::string& profile_text) {
  KeyFile k = parse_keyfile(profile_text, "run profile");
  for (const char* g : {"tiling", "threshold", "calibration", "overlay"}) g_key_file_remove_group(k.get(), g, nullptr);
  gsize n = 0;
  gchar** groups = g_key_file_get_groups(k.get(), &n);
  for (gsize i = 0; i < n; ++i)
    if (std::string(groups[i]).rfind("postproc", 0) == 0) g_key_file_remove_group(k.get(), groups[i], nullptr);
  g_strfreev(groups);
  return to_text(k.get());
}

bool write_if_changed(const std::string& path, const std::string& text) {
  {
    std::ifstream f(path, std::ios::binary);
    if (f) {
      std::ostringstream ss;
      ss << f.rdbuf();
      if (ss.str() == text) return false;
    }
  }
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!(f << text)) throw InputError("cannot write '" + path + "'");
  return true;
}

}  // namespace advad::reproduce
