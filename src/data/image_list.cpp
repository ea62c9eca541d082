#include "data/image_list.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "core/error.h"

namespace advad {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool extension_in(const fs::path& p, const std::vector<std::string>& exts) {
  const std::string e = lower(p.extension().string());
  return std::find(exts.begin(), exts.end(), e) != exts.end();
}

struct Walk {
  const std::vector<std::string>& exts;
  bool recursive;
  std::set<fs::path> seen;  // real folders entered, so a link loop ends
  std::vector<std::pair<std::string, fs::path>> found;  // (relative text, path)

  void folder(const fs::path& dir, const std::string& rel) {
    std::error_code ec;
    const fs::path real = fs::canonical(dir, ec);
    if (!ec && !seen.insert(real).second) return;
    fs::directory_iterator it(dir, ec);
    if (ec) throw InputError("cannot list the folder " + dir.string() + ": " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      entry(it->path(), rel);
    }
    if (ec) throw InputError("cannot list the folder " + dir.string() + ": " + ec.message());
  }

  void entry(const fs::path& p, const std::string& rel) {
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.') return;
    const std::string r = rel.empty() ? name : rel + "/" + name;
    const bool image_name = extension_in(p, exts);
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);  // follows links
    if (ec || !fs::exists(st)) {
      if (!image_name) return;  // only what is named like an image can be a missing image
      std::error_code lec;
      if (fs::is_symlink(fs::symlink_status(p, lec)))
        throw InputError(p.string() + ": a symbolic link to nothing (its target " + fs::read_symlink(p, lec).string() +
                         " does not exist); remove the link or restore the file");
      throw InputError(p.string() + ": cannot read the entry (" + ec.message() + ")");
    }
    if (fs::is_directory(st)) {
      if (recursive) folder(p, r);
      return;
    }
    if (!image_name || !fs::is_regular_file(st)) return;
    if (::access(p.c_str(), R_OK) != 0)
      throw InputError(p.string() +
                       ": the image cannot be read (no read permission); fix its permissions or remove it");
    found.emplace_back(r, p);
  }
};

}  // namespace

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> exts = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
  return exts;
}

bool has_image_extension(const fs::path& path) { return extension_in(path, image_extensions()); }

std::vector<fs::path> list_images(const fs::path& dir, const ImageListOptions& options) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw InputError("image folder " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) throw InputError(dir.string() + " is not a folder (expected a folder of images)");
  Walk walk{options.extensions.empty() ? image_extensions() : options.extensions, options.recursive, {}, {}};
  walk.folder(dir, "");
  std::sort(walk.found.begin(), walk.found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<fs::path> out;
  out.reserve(walk.found.size());
  for (auto& f : walk.found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace advad
