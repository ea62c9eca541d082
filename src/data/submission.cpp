#include "data/submission.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/tiff_io.h"

namespace advad {
namespace fs = std::filesystem;
namespace {

const char* const kSplits[] = {"test_private", "test_private_mixed"};
constexpr size_t kMaxPerFolder = 5;  // problems reported per folder before "... and N more"

std::string expected_name(int idx, const std::string& split, const std::string& ext) {
  char b[32];
  std::snprintf(b, sizeof b, "%03d_%s%s", idx, split == "test_private" ? "regular" : "mixed", ext.c_str());
  return b;
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// Folder holds exactly `want` (as directories); records missing and extra ones.
bool check_exact_dirs(const fs::path& dir, const std::vector<std::string>& want, SubmissionReport& r) {
  if (!fs::is_directory(dir)) {
    r.errors.push_back("missing folder " + dir.string());
    return false;
  }
  const auto have = entries(dir);
  bool ok = true;
  for (const auto& w : want)
    if (!have.count(w) || !fs::is_directory(dir / w)) {
      r.errors.push_back("missing folder " + (dir / w).string());
      ok = false;
    }
  for (const auto& h : have)
    if (std::find(want.begin(), want.end(), h) == want.end()) {
      r.errors.push_back("unexpected " + std::string(fs::is_directory(dir / h) ? "folder " : "file ") + (dir / h).string() +
                         " (only " + [&] {
                           std::string s;
                           for (const auto& w : want) s += (s.empty() ? "" : ", ") + w;
                           return s;
                         }() + " belong here)");
      ok = false;
    }
  return ok;
}

std::string check_tiff(const fs::path& p) {
  try {
    TiffInfo i = read_tiff_info(p.string());
    if (!i.is_float16()) return p.string() + " is " + i.describe() + "; the server needs a single-channel, one-page float16 TIFF";
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string check_png(const fs::path& p) {
  try {
    PngHeader h = read_png_header(p.string());
    if (h.color_type != 0)
      return p.string() + " is not a grayscale PNG (color type " + std::to_string(h.color_type) +
             "); save binary maps as 8-bit single-channel PNG";
    if (h.bit_depth < 8)
      return p.string() + " is a " + std::to_string(h.bit_depth) +
             "-bit PNG, which reads as 0/1; save binary maps as 8-bit PNG with values 0 and 255";
    cv::Mat m = cv::imread(p.string(), cv::IMREAD_UNCHANGED);
    if (m.empty()) return "cannot read " + p.string() + ": corrupt PNG";
    cv::Mat bad = (m != 0) & (m != 255);
    if (const int n = cv::countNonZero(bad))
      return p.string() + " has " + std::to_string(n) + " pixels that are neither 0 nor 255";
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void check_split_files(const fs::path& dir, const std::string& split, int n, const std::string& ext,
                       const std::string& dataset_object_dir, SubmissionReport& r) {
  std::set<std::string> want;
  for (int i = 0; i < n; ++i) want.insert(expected_name(i, split, ext));
  const auto have = entries(dir);
  size_t problems = 0, hidden = 0;
  auto report = [&](const std::string& msg) {
    if (problems++ < kMaxPerFolder)
      r.errors.push_back(msg);
    else
      ++hidden;
  };
  if (have.size() != want.size())
    report(dir.string() + " holds " + std::to_string(have.size()) + " entries; it must hold exactly " + std::to_string(n) +
           " files " + expected_name(0, split, ext) + " .. " + expected_name(n - 1, split, ext));
  for (const auto& w : want)
    if (!have.count(w)) report("missing file " + (dir / w).string());
  for (const auto& h : have)
    if (!want.count(h)) report("unexpected " + (dir / h).string() + " (names must be NNN_" +
                               (split == "test_private" ? "regular" : "mixed") + ext + ", NNN = 000.." +
                               expected_name(n - 1, split, "").substr(0, 3) + ")");
  for (const auto& w : want) {
    if (!have.count(w)) continue;
    const fs::path p = dir / w;
    const std::string e = ext == ".tiff" ? check_tiff(p) : check_png(p);
    if (!e.empty()) {
      report(e);
      continue;
    }
    (ext == ".tiff" ? r.tiffs : r.pngs) += 1;
    if (!dataset_object_dir.empty()) {
      const fs::path img = fs::path(dataset_object_dir) / split / (fs::path(w).stem().string() + ".png");
      try {
        const cv::Size a = image_size(p.string()), b = image_size(img.string());
        if (a != b)
          report(p.string() + " is " + std::to_string(a.width) + "x" + std::to_string(a.height) + " but image " + img.string() +
                 " is " + std::to_string(b.width) + "x" + std::to_string(b.height) + "; maps must have the original resolution");
      } catch (const InputError& e) {
        report(e.what());
      }
    }
  }
  if (hidden) r.errors.push_back("... and " + std::to_string(hidden) + " more problems in " + dir.string());
}

}  // namespace

const ObjectCounts& mvtec_ad2_private_counts() {
  static const ObjectCounts c = {{"can", 321},       {"fabric", 314}, {"fruit_jelly", 255}, {"rice", 277},
                                 {"sheet_metal", 142}, {"vial", 276},   {"wallplugs", 232},   {"walnuts", 228}};
  return c;
}

ObjectCounts parse_object_counts(const std::string& text) {
  ObjectCounts out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const size_t colon = item.find(':');
    int n = 0;
    try {
      if (colon == std::string::npos || colon == 0) throw std::invalid_argument("");
      size_t used = 0;
      n = std::stoi(item.substr(colon + 1), &used);
      if (used != item.size() - colon - 1 || n <= 0 || n > 999) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw InputError("bad object count '" + item + "'; write NAME:COUNT with 1 <= COUNT <= 999, e.g. can:321,fabric:314");
    }
    out.emplace_back(item.substr(0, colon), n);
    start = end + 1;
  }
  return out;
}

SubmissionReport check_submission(const std::string& dir_s, const SubmissionCheckOptions& o) {
  SubmissionReport r;
  const fs::path dir(dir_s);
  if (!fs::is_directory(dir)) {
    r.errors.push_back("submission folder " + dir_s + " does not exist");
    return r;
  }
  const bool has_thr = fs::exists(dir / "anomaly_images_thresholded");
  std::vector<std::string> top{"anomaly_images"};
  if (has_thr || o.require_thresholded) top.push_back("anomaly_images_thresholded");
  check_exact_dirs(dir, top, r);
  if (!has_thr) {
    const std::string msg = "no anomaly_images_thresholded folder: SegF1 and ClassF1 will be 0. Binarize the maps with a "
                            "threshold from defect-free data (e.g. mean + 3 std of validation pixel scores; advad calibrate)";
    if (!o.require_thresholded) r.warnings.push_back(msg);
  }
  std::vector<std::string> objects;
  for (const auto& [name, n] : o.objects) objects.push_back(name);
  for (const auto& t : top) {
    const fs::path td = dir / t;
    if (!fs::is_directory(td)) continue;
    check_exact_dirs(td, objects, r);
    for (const auto& [name, n] : o.objects) {
      const fs::path od = td / name;
      if (!fs::is_directory(od)) continue;
      check_exact_dirs(od, {kSplits[0], kSplits[1]}, r);
      for (const char* split : kSplits)
        if (fs::is_directory(od / split))
          check_split_files(od / split, split, n, t == "anomaly_images" ? ".tiff" : ".png",
                            o.dataset_root.empty() ? "" : (fs::path(o.dataset_root) / name).string(), r);
    }
  }
  return r;
}

size_t write_submission(const std::string& predictions_dir, const std::string& out_dir, const ObjectCounts& objects,
                        bool with_thresholded) {
  const fs::path in(predictions_dir), out(out_dir);
  if (!fs::is_directory(in / "anomaly_images"))
    throw InputError("predictions folder " + predictions_dir + " has no anomaly_images/ folder; run advad predict --out " +
                     predictions_dir + " on test_private and test_private_mixed first");
  size_t written = 0;
  for (const auto& [name, n] : objects) {
    for (const char* split : kSplits) {
      for (int i = 0; i < n; ++i) {
        const std::string stem = expected_name(i, split, "");
        const fs::path rel = fs::path(name) / split / stem;
        fs::path src = in / "anomaly_images" / rel;
        src += ".tiff";
        if (!fs::exists(src))
          throw InputError("missing map " + src.string() + " (" + name + "/" + split + " needs " + std::to_string(n) +
                           " maps); run advad predict for that split");
        fs::path dst = out / "anomaly_images" / rel;
        dst += ".tiff";
        ensure_parent_dir(dst.string());
        write_float_tiff(dst.string(), read_map(src.string()), MapDepth::Float16);
        ++written;
        if (!with_thresholded) continue;
        fs::path bsrc = in / "anomaly_images_thresholded" / rel;
        bsrc += ".png";
        if (!fs::exists(bsrc))
          throw InputError("missing binary map " + bsrc.string() + "; run advad predict (it writes them), or pass --no-thresholded");
        fs::path bdst = out / "anomaly_images_thresholded" / rel;
        bdst += ".png";
        ensure_parent_dir(bdst.string());
        cv::Mat m = read_binary_mask(bsrc.string(), image_size(src.string()));
        write_image(bdst.string(), m * 255);
        ++written;
      }
    }
  }
  return written;
}

void pack_submission(const std::string& dir_s, const std::string& tar_gz) {
  const fs::path dir = fs::absolute(dir_s).lexically_normal();
  const fs::path base = dir.filename().empty() ? dir.parent_path().filename() : dir.filename();
  const fs::path root = dir.filename().empty() ? dir.parent_path() : dir;
  if (!fs::is_directory(root)) throw InputError("submission folder " + dir_s + " does not exist");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) files.push_back(e.path());
  std::sort(files.begin(), files.end());

  struct ArchiveCloser {
    void operator()(archive* a) const { archive_write_free(a); }
  };
  std::unique_ptr<archive, ArchiveCloser> a(archive_write_new());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), tar_gz.c_str()) != ARCHIVE_OK)
    throw InputError("cannot write " + tar_gz + ": " + archive_error_string(a.get()));
  auto add = [&](const fs::path& p) {
    const fs::path name = base / fs::relative(p, root);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.generic_string().c_str());
    const bool is_dir = fs::is_directory(p);
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, is_dir ? 0755 : 0644);
    const auto size = is_dir ? 0 : fs::file_size(p);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    if (archive_write_header(a.get(), e) != ARCHIVE_OK) {
      archive_entry_free(e);
      throw InputError("cannot pack " + p.string() + ": " + archive_error_string(a.get()));
    }
    archive_entry_free(e);
    if (is_dir) return;
    std::ifstream f(p, std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (f) {
      f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto got = f.gcount();
      if (got > 0 && archive_write_data(a.get(), buf.data(), static_cast<size_t>(got)) < 0)
        throw InputError("cannot pack " + p.string() + ": " + archive_error_string(a.get()));
    }
  };
  add(root);
  for (const auto& p : files) add(p);
  if (archive_write_close(a.get()) != ARCHIVE_OK)
    throw InputError("cannot finish " + tar_gz + ": " + archive_error_string(a.get()) + " (disk full?)");
}

}  // namespace advad
