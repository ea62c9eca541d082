// Reading the synthesis sources: texture images and defect-patch libraries.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "core/error.h"
#include "cpr/synth/synth.h"
#include "data/image_list.h"

namespace advad::cpr {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void require_dir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(what + " folder '" + dir + "' does not exist or is not a folder (set in the profile's [train])");
}

// 8-bit with any depth scaled to [0, 255].
cv::Mat to_8u(const cv::Mat& m) {
  if (m.depth() == CV_8U) return m;
  cv::Mat out;
  if (m.depth() == CV_16U) m.convertTo(out, CV_8U, 1.0 / 257.0);
  else if (m.depth() == CV_32F || m.depth() == CV_64F) m.convertTo(out, CV_8U, 255.0);
  else m.convertTo(out, CV_8U);
  return out;
}

cv::Mat read_patch(const fs::path& file) {
  cv::Mat raw = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  if (raw.empty()) throw InputError("defect patch '" + file.string() + "' cannot be read as an image");
  raw = to_8u(raw);
  if (raw.channels() == 4) return raw;
  cv::Mat bgr;
  if (raw.channels() == 1) cv::cvtColor(raw, bgr, cv::COLOR_GRAY2BGR);
  else if (raw.channels() == 3) bgr = raw;
  else throw InputError("defect patch '" + file.string() + "' has " + std::to_string(raw.channels()) +
                        " channels; expected RGBA, RGB or grey");
  const fs::path mask_file = file.parent_path() / (file.stem().string() + "_mask.png");
  std::error_code ec;
  if (!fs::exists(mask_file, ec))
    throw InputError("defect patch '" + file.string() + "' has no alpha channel and no mask '" +
                     mask_file.string() + "' beside it");
  cv::Mat mask = cv::imread(mask_file.string(), cv::IMREAD_GRAYSCALE);
  if (mask.empty()) throw InputError("defect mask '" + mask_file.string() + "' cannot be read as an image");
  if (mask.size() != bgr.size())
    throw InputError("defect mask '" + mask_file.string() + "' is " + std::to_string(mask.cols) + "x" +
                     std::to_string(mask.rows) + " but its patch is " + std::to_string(bgr.cols) + "x" +
                     std::to_string(bgr.rows));
  cv::Mat bgra;
  cv::Mat planes[] = {bgr, mask};
  const int from_to[] = {0, 0, 1, 1, 2, 2, 3, 3};
  bgra.create(bgr.size(), CV_8UC4);
  cv::mixChannels(planes, 2, &bgra, 1, from_to, 4);
  return bgra;
}

// The visible sub-folders of dir (links to folders included), sorted by name.
std::vector<fs::path> sorted_subfolders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code sec;
    if (!name.empty() && name[0] != '.' && fs::is_directory(it->path(), sec)) out.push_back(it->path());
  }
  if (ec) throw InputError("cannot list the defects folder '" + dir.string() + "': " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

SynthSources load_synth_sources(const SynthSettings& settings) {
  SynthSources src;
  if (!settings.textures.empty()) {
    require_dir(settings.textures, "textures");
    for (const auto& p : list_images(settings.textures, {/*recursive=*/true, {}})) {
      cv::Mat img = cv::imread(p.string(), cv::IMREAD_COLOR);
      if (img.empty()) throw InputError("texture image '" + p.string() + "' cannot be read as an image");
      // Textures are only ever used at the synthesis size: keep them at it.
      cv::Mat resized;
      cv::resize(img, resized, cv::Size(settings.size, settings.size), 0, 0, cv::INTER_LINEAR);
      src.textures.push_back(resized);
    }
    if (src.textures.empty())
      throw InputError("textures folder '" + settings.textures + "' holds no images (png, jpg, bmp, tif, webp)");
  }
  if (!settings.defects.empty()) {
    require_dir(settings.defects, "defects");
    std::set<std::string> names;
    for (const auto& sub : sorted_subfolders(settings.defects)) {
      DefectLibrary lib;
      lib.name = sub.filename().string();
      for (const auto& f : list_images(sub, {/*recursive=*/false, {".png"}})) {
        if (ends_with(lower(f.stem().string()), "_mask")) continue;  // a patch's mask, read with the patch
        lib.patches.push_back({read_patch(f)});
      }
      if (lib.patches.empty()) continue;
      auto sc = settings.defect_scales.find(lib.name);
      lib.scale = sc != settings.defect_scales.end() ? sc->second : settings.default_scale;
      names.insert(lib.name);
      src.libraries.push_back(std::move(lib));
    }
    if (src.libraries.empty())
      throw InputError("defects folder '" + settings.defects +
                       "' has no sub-folder with PNG patches (expected <defects>/<name>/*.png, RGBA or with <stem>_mask.png)");
    for (const auto& [name, range] : settings.defect_scales)
      if (!names.count(name))
        throw InputError("[train] defect_scales names '" + name + "' but defects folder '" + settings.defects +
                         "' has no sub-folder '" + name + "' with PNG patches");
  }
  return src;
}

}  // namespace advad::cpr
