// Profile loading: GKeyFile syntax, strict validation. Every group is read
// through ProfileGroup (core/profile_reader.h), so every error names the file,
// the group, the key (with its line) and what is accepted.
#include "core/profile.h"

#include <glib.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>

#include <opencv2/imgproc.hpp>

#include "core/backend_registry.h"
#include "core/error.h"
#include "core/profile_reader.h"

namespace fs = std::filesystem;

namespace advad {

namespace {

std::string trim(const std::string& s) { return ProfileGroup::trim(s); }
std::string lower(const std::string& s) { return ProfileGroup::lower(s); }
std::string join(const std::vector<std::string>& v, const char* sep) { return ProfileGroup::join(v, sep); }

template <typename E>
E parse_enum(const std::string& s, const std::vector<std::pair<std::string, E>>& table) {
  std::vector<std::string> names;
  for (const auto& [name, value] : table) {
    if (lower(trim(s)) == name) return value;
    names.push_back(name);
  }
  throw ProfileError("bad value '" + s + "'; accepted: " + join(names, " | "));
}

const std::vector<std::pair<std::string, MergeMode>> kMerges = {
    {"paste", MergeMode::Paste}, {"mean", MergeMode::Mean}, {"max", MergeMode::Max}};
const std::vector<std::pair<std::string, BlendMode>> kBlends = {{"none", BlendMode::None},
                                                                {"hann", BlendMode::Hann}};
const std::vector<std::pair<std::string, ResizeFilter>> kFilters = {
    {"pil-bilinear", ResizeFilter::PilBilinear}, {"linear", ResizeFilter::Linear}, {"area", ResizeFilter::Area}};
const std::vector<std::pair<std::string, int>> kColormaps = {
    {"autumn", cv::COLORMAP_AUTUMN},   {"bone", cv::COLORMAP_BONE},       {"jet", cv::COLORMAP_JET},
    {"winter", cv::COLORMAP_WINTER},   {"rainbow", cv::COLORMAP_RAINBOW}, {"ocean", cv::COLORMAP_OCEAN},
    {"summer", cv::COLORMAP_SUMMER},   {"spring", cv::COLORMAP_SPRING},   {"cool", cv::COLORMAP_COOL},
    {"hsv", cv::COLORMAP_HSV},         {"pink", cv::COLORMAP_PINK},       {"hot", cv::COLORMAP_HOT},
    {"parula", cv::COLORMAP_PARULA},   {"magma", cv::COLORMAP_MAGMA},     {"inferno", cv::COLORMAP_INFERNO},
    {"plasma", cv::COLORMAP_PLASMA},   {"viridis", cv::COLORMAP_VIRIDIS}, {"cividis", cv::COLORMAP_CIVIDIS},
    {"twilight", cv::COLORMAP_TWILIGHT}, {"turbo", cv::COLORMAP_TURBO}};

template <typename E>
std::string enum_name(E v, const std::vector<std::pair<std::string, E>>& table) {
  for (const auto& [name, value] : table)
    if (value == v) return name;
  return "?";
}

std::string fmt_double(double v) { return ProfileGroup::shortest(v); }
int parse_int(const std::string& v, int lo, int hi) { return static_cast<int>(ProfileGroup::parse_integer(v, lo, hi)); }

// Shortest decimal text that reads back to exactly the float `v`.
std::string fmt_float(float v) {
  char buf[64];
  for (int prec = 6; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

// One group of the loaded key file, read through the shared ProfileGroup.
ProfileGroup group_of(const std::string& path, GKeyFile* kf, const std::string& g) {
  std::vector<std::string> names;
  gchar** ks = g_key_file_get_keys(kf, g.c_str(), nullptr, nullptr);
  for (gchar** k = ks; k && *k; ++k) names.push_back(*k);
  g_strfreev(ks);
  ProfileGroup::Values values;
  for (const auto& k : names) {
    GError* err = nullptr;
    gchar* v = g_key_file_get_string(kf, g.c_str(), k.c_str(), &err);
    if (!v) {
      std::string m = err ? err->message : "cannot read";
      if (err) g_error_free(err);
      ProfileGroup(path, g, {}).fail(k, m);
    }
    values[k] = v;
    g_free(v);
  }
  return ProfileGroup(path, g, std::move(values));
}

// Splits a ';' / ',' separated list; every item trimmed, empty items kept
// (so "1;;2" and "1;2;" are seen as having an empty item).
std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : v) {
    if (c == ';' || c == ',') {
      parts.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(trim(cur));
  return parts;
}

std::array<float, 3> parse_triple(const std::string& v, bool positive) {
  const std::vector<std::string> parts = split_list(v);
  for (const auto& part : parts)
    if (part.empty()) throw ProfileError("'" + v + "' has an empty item; accepted: 3 numbers R;G;B (e.g. 0.485;0.456;0.406)");
  if (parts.size() != 3) throw ProfileError("'" + v + "' needs 3 numbers (R;G;B)");
  std::array<float, 3> out{};
  for (int i = 0; i < 3; ++i)
    out[i] = static_cast<float>(ProfileGroup::parse_number(parts[i], positive ? 1e-6 : -1e6, 1e6));
  return out;
}

const std::vector<std::string> kGroups = {"profile",  "input",     "tiling", "threshold", "postproc", "postproc.<split>",
                                          "calibration", "calibration.<split>", "overlay", "inpformer", "cpr", "train"};
const std::vector<std::string> kPostKeys = {"blur_ksize", "blur_sigma",      "close",           "erode",
                                            "fill_holes", "fill_fallback",   "min_area",        "foreground_gate",
                                            "foreground_dilate"};

bool is_split_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

// The keys advad calibrate --write records; false_alarms is also calibrate's
// default budget for this threshold.
void check_calibration_group(const ProfileGroup& g) {
  g.only_keys({"rule", "false_alarms", "images", "images_flagged", "false_alarm_bound", "data", "labelled", "k",
               "percentile", "min_area"});
  g.choice<int>("rule", 0, {{"false-alarms", 0}, {"mean-std", 1}, {"percentile", 2}, {"max-f1", 3}, {"labelled-f1", 4},
                            {"manual", 5}});
  g.number("false_alarms", 0.0, 0.0, 1.0, Bound::HighOpen);
  const int n = g.integer("images", 1, 1, 1 << 30);
  if (g.integer("images_flagged", 0, 0, 1 << 30) > n && g.has("images"))
    g.fail("images_flagged", "more than [" + g.group() + "] images");
  g.number("false_alarm_bound", 0.0, 0.0, 1.0);
  g.number("k", 0.0, -1e6, 1e6);
  g.number("percentile", 50.0, 0.0, 100.0, Bound::LowOpen);
  g.integer("min_area", 0, 0, 1 << 30);
}

PostprocSpec read_post(const ProfileGroup& r, PostprocSpec p) {
  r.only_keys(kPostKeys);
  r.with("blur_ksize", [&](const std::string& v) {
    int k = parse_int(v, 0, 99);
    if (k != 0 && (k < 3 || k % 2 == 0)) throw ProfileError("blur_ksize " + v + " must be 0 (off) or odd >= 3");
    p.blur_ksize = k;
  });
  p.blur_sigma = r.number("blur_sigma", p.blur_sigma, 0.0, 100.0);
  r.with("close", [&](const std::string& v) { std::tie(p.close_w, p.close_h) = parse_kernel(v); });
  r.with("erode", [&](const std::string& v) { std::tie(p.erode_w, p.erode_h) = parse_kernel(v); });
  p.fill_holes = r.boolean("fill_holes", p.fill_holes);
  p.fill_fallback = r.number("fill_fallback", p.fill_fallback, 0.0, 1.0);
  p.min_area = r.integer("min_area", p.min_area, 0, 100000000);
  p.foreground_gate = r.boolean("foreground_gate", p.foreground_gate);
  p.foreground_dilate = r.integer("foreground_dilate", p.foreground_dilate, 0, 1000);
  return p;
}

}  // namespace

std::pair<int, int> parse_kernel(const std::string& v) {
  std::string l = lower(trim(v));
  if (l == "0" || l == "off" || l == "none" || l == "0x0") return {0, 0};
  const char* accepted = "; accepted: WxH or N (N x N), 1..1000 each (e.g. 80x80, 15), or off / 0";
  auto x = l.find('x');
  try {
    if (x == std::string::npos) {
      const int n = parse_int(l, 1, 1000);
      return {n, n};
    }
    return {parse_int(trim(l.substr(0, x)), 1, 1000), parse_int(trim(l.substr(x + 1)), 1, 1000)};
  } catch (const ProfileError&) {
    throw ProfileError("bad kernel '" + v + "'" + accepted);
  }
}


std::string to_string(MergeMode m) { return enum_name(m, kMerges); }
std::string to_string(BlendMode m) { return enum_name(m, kBlends); }
std::string to_string(ResizeFilter f) { return enum_name(f, kFilters); }
std::string parse_method(const std::string& s) {
  const std::string name = lower(trim(s));
  if (!find_backend(name)) throw ProfileError("bad value '" + s + "'; accepted: " + backend_methods_text());
  return name;
}
MergeMode parse_merge_mode(const std::string& s) { return parse_enum(s, kMerges); }
BlendMode parse_blend_mode(const std::string& s) { return parse_enum(s, kBlends); }
ResizeFilter parse_resize_filter(const std::string& s) { return parse_enum(s, kFilters); }
int colormap_id(const std::string& name) { return parse_enum(name, kColormaps); }

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& c : kColormaps) n.push_back(c.first);
    return n;
  }();
  return names;
}

std::vector<GridLevel> parse_levels(const std::string& s) {
  const char* accepted = "accepted: COLSxROWS (e.g. 4x2), levels separated by ';' (e.g. 1x1;2x2)";
  if (trim(s).empty()) throw ProfileError(std::string("no grid given; ") + accepted);
  std::vector<GridLevel> out;
  for (const auto& item : split_list(s)) {
    const std::string t = lower(item);
    if (t.empty()) throw ProfileError("'" + s + "' has an empty level; " + accepted);
    auto x = t.find('x');
    if (x == std::string::npos) throw ProfileError("bad grid '" + item + "'; " + accepted);
    GridLevel g;
    g.cols = parse_int(trim(t.substr(0, x)), 1, 64);
    g.rows = parse_int(trim(t.substr(x + 1)), 1, 64);
    out.push_back(g);
  }
  return out;
}

std::string to_string(const std::vector<GridLevel>& levels) {
  std::string out;
  for (size_t i = 0; i < levels.size(); ++i)
    out += (i ? ";" : "") + std::to_string(levels[i].cols) + "x" + std::to_string(levels[i].rows);
  return out;
}

double Profile::threshold_for(const std::string& split) const {
  auto it = split_thresholds.find(split);
  return it == split_thresholds.end() ? threshold : it->second;
}

const PostprocSpec& Profile::post_for(const std::string& split) const {
  auto it = split_post.find(split);
  return it == split_post.end() ? post : it->second;
}

std::vector<std::string> Profile::split_names() const {
  std::set<std::string> names;
  for (const auto& kv : split_thresholds) names.insert(kv.first);
  for (const auto& kv : split_post) names.insert(kv.first);
  return {names.begin(), names.end()};
}

void Profile::check_split(const std::string& split) const {
  if (split.empty()) return;
  const std::vector<std::string> names = split_names();
  for (const auto& n : names)
    if (n == split) return;
  const std::string where = path.empty() ? std::string("the profile") : "profile " + path;
  throw ProfileError("split '" + split + "' is not defined in " + where + "; " +
                     (names.empty() ? std::string("it defines no splits ([threshold] <split> keys or "
                                                  "[postproc.<split>] groups), so leave the split empty")
                                    : "defined splits: " + join(names, ", ") + " (or empty for the defaults)"));
}

Profile load_profile(const std::string& path, bool check_model_file) {
  if (!fs::is_regular_file(path))
    throw ProfileError(path + ": profile not found (expected a .ini file, e.g. models/mvtec_ad2/can.ini)");
  std::unique_ptr<GKeyFile, decltype(&g_key_file_free)> kf(g_key_file_new(), &g_key_file_free);
  GError* err = nullptr;
  if (!g_key_file_load_from_file(kf.get(), path.c_str(), G_KEY_FILE_NONE, &err)) {
    std::string m = err ? err->message : "unreadable";
    if (err) g_error_free(err);
    throw ProfileError(path + ": not a valid profile (GKeyFile syntax: [group] lines and key = value lines): " + m);
  }
  check_duplicate_keys(path);
  auto group = [&](const std::string& g) { return group_of(path, kf.get(), g); };
  Profile p;
  p.path = fs::absolute(path).lexically_normal().string();

  gchar** groups = g_key_file_get_groups(kf.get(), nullptr);
  std::vector<std::string> group_names;
  for (gchar** g = groups; g && *g; ++g) group_names.push_back(*g);
  g_strfreev(groups);
  for (const auto& g : group_names) {
    bool known = g == "profile" || g == "input" || g == "tiling" || g == "threshold" || g == "postproc" ||
                 g == "calibration" || g == "overlay" || g == "inpformer" || g == "cpr" || g == "train";
    for (const std::string prefix : {"postproc.", "calibration."}) {
      if (known || g.rfind(prefix, 0) != 0) continue;
      if (!is_split_name(g.substr(prefix.size())))
        ProfileGroup(path, g, {}).fail("", "bad split name; use letters, digits, '_' or '-'");
      known = true;
    }
    if (!known) ProfileGroup(path, g, {}).fail("", "unknown group; accepted groups: " + join(kGroups, ", "));
  }

  // [profile]
  const ProfileGroup prof = group("profile");
  if (!g_key_file_has_group(kf.get(), "profile"))
    throw ProfileError(path + ": missing group [profile] (needs at least method = ... and model = ...)");
  prof.only_keys({"category", "method", "model", "description", "precision"});
  p.category = fs::path(path).stem().string();
  prof.with("category", [&](const std::string& v) {
    if (v.empty()) throw ProfileError("empty value; give the category a name (or drop the key to use the file name)");
    p.category = v;
  });
  if (!prof.has("method"))
    prof.fail("", "missing key 'method'; accepted: " + backend_methods_text());
  prof.with("method", [&](const std::string& v) { p.method = parse_method(v); });
  if (!prof.has("model"))
    prof.fail("", "missing key 'model' (the model package or file, relative to this file's folder)");
  prof.with("model", [&](const std::string& v) {
    if (v.empty()) throw ProfileError("empty value; give the model package or file path");
    fs::path m(v);
    if (m.is_relative()) m = fs::path(p.path).parent_path() / m;
    p.model = m.lexically_normal().string();
  });
  if (check_model_file && !fs::exists(p.model)) {
    std::string how = p.method == "torchscript"
                          ? "write a TorchScript module there (e.g. `advad make-demo`)"
                          : "train it with `advad train " + path + "` or import official weights with `advad import " +
                                p.method + " ...`";
    prof.fail("model", "model package '" + p.model + "' not found; " + how);
  }

  prof.with("precision", [&](const std::string& v) {
    if (v != "auto" && v != "fp32" && v != "fp16" && v != "bf16" && v != "int8")
      throw ProfileError("'" + v + "' is not a precision; accepted: auto | fp32 | fp16 | bf16 | int8");
    p.precision = v;
  });

  // [input]
  const ProfileGroup in = group("input");
  in.only_keys({"width", "height", "crop", "resize", "mean", "std"});
  p.input.width = in.integer("width", p.input.width, 8, 8192);
  p.input.height = in.integer("height", p.input.height, 8, 8192);
  p.input.crop = in.integer("crop", p.input.crop, 0, 8192);
  if (p.input.crop > std::min(p.input.width, p.input.height))
    in.fail("crop", "crop " + std::to_string(p.input.crop) + " is larger than the input size " +
                                std::to_string(p.input.width) + "x" + std::to_string(p.input.height));
  in.with("resize", [&](const std::string& v) { p.input.resize = parse_resize_filter(v); });
  in.with("mean", [&](const std::string& v) { p.input.mean = parse_triple(v, false); });
  in.with("std", [&](const std::string& v) { p.input.std = parse_triple(v, true); });

  // [tiling]
  const ProfileGroup tiling = group("tiling");
  tiling.only_keys({"levels", "overlap", "merge", "blend"});
  tiling.with("levels", [&](const std::string& v) { p.tiling.levels = parse_levels(v); });
  p.tiling.overlap = tiling.number("overlap", p.tiling.overlap, 0.0, 0.5, Bound::HighOpen);
  tiling.with("merge", [&](const std::string& v) { p.tiling.merge = parse_merge_mode(v); });
  tiling.with("blend", [&](const std::string& v) { p.tiling.blend = parse_blend_mode(v); });
  if (p.tiling.blend == BlendMode::Hann && p.tiling.merge != MergeMode::Mean)
    tiling.fail("blend", "blend = hann needs merge = mean (it weights overlapping tiles)");

  // [threshold]: 'default' plus one key per named split.
  const ProfileGroup thr = group("threshold");
  for (const auto& k : thr.keys()) {
    if (!is_split_name(k)) thr.fail(k, "bad split name; use letters, digits, '_' or '-'");
    double t = thr.number(k, 0.0, -1e9, 1e9);
    if (k == "default") p.threshold = t;
    else p.split_thresholds[k] = t;
  }

  // [postproc] then [postproc.<split>] overriding it key by key.
  p.post = read_post(group("postproc"), PostprocSpec{});
  for (const auto& g : group_names)
    if (g.rfind("postproc.", 0) == 0) p.split_post[g.substr(9)] = read_post(group(g), p.post);

  // [overlay]
  const ProfileGroup ov = group("overlay");
  ov.only_keys({"opacity", "colormap", "heatmap", "heatmap_floor", "contours", "boxes", "label"});
  p.overlay.opacity = ov.number("opacity", p.overlay.opacity, 0.0, 1.0);
  ov.with("colormap", [&](const std::string& v) {
    colormap_id(v);
    p.overlay.colormap = lower(v);
  });
  p.overlay.heatmap = ov.boolean("heatmap", p.overlay.heatmap);
  ov.with("heatmap_floor",
         [&](const std::string& v) { p.overlay.heatmap_floor = ProfileGroup::parse_number(v, 0.0, 1e9); });
  p.overlay.contours = ov.boolean("contours", p.overlay.contours);
  p.overlay.boxes = ov.boolean("boxes", p.overlay.boxes);
  p.overlay.label = ov.boolean("label", p.overlay.label);

  // Method groups: kept raw, the backends validate them.
  for (const char* g : {"inpformer", "cpr", "train"}) {
    const ProfileGroup mg = group(g);
    for (const auto& k : mg.keys()) p.method_groups[g][k] = *mg.find(k);
  }
  // [calibration] / [calibration.<split>]: how the matching threshold was set
  // (written by advad calibrate --write). Checked here, kept raw beside the
  // method groups so that save_profile writes them back unchanged.
  for (const auto& g : group_names) {
    if (g != "calibration" && g.rfind("calibration.", 0) != 0) continue;
    const ProfileGroup cg = group(g);
    check_calibration_group(cg);
    for (const auto& k : cg.keys()) p.method_groups[g][k] = *cg.find(k);
  }
  return p;
}

void save_profile(const Profile& p, const std::string& path) {
  std::unique_ptr<GKeyFile, decltype(&g_key_file_free)> kf(g_key_file_new(), &g_key_file_free);
  GKeyFile* k = kf.get();
  auto set = [&](const char* g, const char* key, const std::string& v) { g_key_file_set_string(k, g, key, v.c_str()); };
  auto setd = [&](const char* g, const char* key, double v) { set(g, key, fmt_double(v)); };
  auto seti = [&](const char* g, const char* key, int v) { set(g, key, std::to_string(v)); };
  auto setb = [&](const char* g, const char* key, bool v) { set(g, key, v ? "true" : "false"); };
  auto triple = [](const std::array<float, 3>& a) {
    return fmt_float(a[0]) + ";" + fmt_float(a[1]) + ";" + fmt_float(a[2]);
  };
  auto kernel = [](int w, int h) { return w > 0 && h > 0 ? std::to_string(w) + "x" + std::to_string(h) : "off"; };
  auto post = [&](const std::string& g, const PostprocSpec& s) {
    seti(g.c_str(), "blur_ksize", s.blur_ksize);
    setd(g.c_str(), "blur_sigma", s.blur_sigma);
    set(g.c_str(), "close", kernel(s.close_w, s.close_h));
    set(g.c_str(), "erode", kernel(s.erode_w, s.erode_h));
    setb(g.c_str(), "fill_holes", s.fill_holes);
    setd(g.c_str(), "fill_fallback", s.fill_fallback);
    seti(g.c_str(), "min_area", s.min_area);
    setb(g.c_str(), "foreground_gate", s.foreground_gate);
    seti(g.c_str(), "foreground_dilate", s.foreground_dilate);
  };

  fs::path dir = fs::absolute(path).parent_path();
  std::string model = p.model;
  if (!model.empty() && fs::path(model).is_absolute()) {
    fs::path rel = fs::path(model).lexically_relative(dir);
    if (!rel.empty()) model = rel.string();
  }
  set("profile", "category", p.category);
  set("profile", "method", p.method);
  set("profile", "model", model);
  if (!p.precision.empty()) set("profile", "precision", p.precision);
  seti("input", "width", p.input.width);
  seti("input", "height", p.input.height);
  seti("input", "crop", p.input.crop);
  set("input", "resize", to_string(p.input.resize));
  set("input", "mean", triple(p.input.mean));
  set("input", "std", triple(p.input.std));
  set("tiling", "levels", to_string(p.tiling.levels));
  setd("tiling", "overlap", p.tiling.overlap);
  set("tiling", "merge", to_string(p.tiling.merge));
  set("tiling", "blend", to_string(p.tiling.blend));
  setd("threshold", "default", p.threshold);
  for (const auto& [split, t] : p.split_thresholds) setd("threshold", split.c_str(), t);
  post("postproc", p.post);
  for (const auto& [split, s] : p.split_post) post("postproc." + split, s);
  setd("overlay", "opacity", p.overlay.opacity);
  set("overlay", "colormap", p.overlay.colormap);
  setb("overlay", "heatmap", p.overlay.heatmap);
  if (p.overlay.heatmap_floor) setd("overlay", "heatmap_floor", *p.overlay.heatmap_floor);
  setb("overlay", "contours", p.overlay.contours);
  setb("overlay", "boxes", p.overlay.boxes);
  setb("overlay", "label", p.overlay.label);
  for (const auto& [g, kv] : p.method_groups)
    for (const auto& [key, v] : kv) set(g.c_str(), key.c_str(), v);
  g_key_file_set_comment(k, nullptr, nullptr,
                         " advad category profile (written by advad). Thresholds are in the model's score "
                         "units: a pixel is defective if score >= threshold.",
                         nullptr);
  GError* err = nullptr;
  if (!g_key_file_save_to_file(k, path.c_str(), &err)) {
    std::string m = err ? err->message : "write failed";
    if (err) g_error_free(err);
    throw ProfileError(path + ": cannot write profile: " + m);
  }
}

}  // namespace advad
