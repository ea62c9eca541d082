#include "metrics/evaluate_dataset.h"

#include <filesystem>

#include "core/error.h"
#include "core/postproc.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/tiff_io.h"

namespace advad {
namespace fs = std::filesystem;

MapLocations locate_maps(const EvalRequest& q) {
  if (!fs::is_directory(q.maps_dir)) throw InputError("maps folder " + q.maps_dir + " does not exist");
  MapLocations l;
  if (fs::is_directory(fs::path(q.maps_dir) / "anomaly_images")) {
    l.maps_root = (fs::path(q.maps_dir) / "anomaly_images").string();
    const fs::path b = fs::path(q.maps_dir) / "anomaly_images_thresholded";
    if (fs::is_directory(b)) l.binary_root = b.string();
  } else {
    l.maps_root = q.maps_dir;
  }
  if (!q.binary_dir.empty()) {
    if (!fs::is_directory(q.binary_dir)) throw InputError("binary maps folder " + q.binary_dir + " does not exist");
    l.binary_root = q.binary_dir;
  }
  return l;
}

std::string find_map_file(const std::string& maps_root, const std::string& rel) {
  for (const char* ext : {".tiff", ".tif", ".png"}) {
    const fs::path p = fs::path(maps_root) / (rel + ext);
    if (fs::exists(p)) return p.string();
  }
  throw InputError("no anomaly map for " + rel + ": expected " + (fs::path(maps_root) / (rel + ".tiff")).string() +
                   " (run advad predict for this split first)");
}

std::vector<ObjectResult> evaluate_dataset(const EvalRequest& q) {
  const MapLocations loc = locate_maps(q);
  std::vector<std::string> cats = q.categories;
  if (cats.empty()) {
    for (const auto& c : list_categories(q.dataset_root))
      if (fs::is_directory(fs::path(loc.maps_root) / c)) cats.push_back(c);
    if (cats.empty())
      throw InputError("no category of dataset " + q.dataset_root + " has maps under " + loc.maps_root +
                       " (expected <maps>/anomaly_images/<category>/<split>/...)");
  }
  const bool binary = q.use_binary && (q.threshold.has_value() || !loc.binary_root.empty());
  std::vector<ObjectResult> out;
  for (const auto& cat : cats) {
    std::string split = q.split;
    if (split.empty()) split = detect_layout(q.dataset_root, cat) == DatasetLayout::MvtecAD2 ? "test_public" : "test";
    const SplitListing listing = list_split(q.dataset_root, cat, split);
    if (listing.count_labelled() != listing.samples.size())
      throw InputError("split " + cat + "/" + split + " has no ground truth (the server holds it); evaluate test_public, "
                       "or check a submission with advad submission check");
    ObjectEvaluator ev(cat, split, q.pixel);
    size_t done = 0;
    for (const auto& s : listing.samples) {
      const std::string map_file = find_map_file(loc.maps_root, s.rel);
      // Runs read(); an InputError from it goes to on_unreadable (when set) naming `file`.
      auto readable = [&](const std::string& file, const auto& read) {
        try {
          read();
          return true;
        } catch (const InputError& e) {
          if (!q.on_unreadable) throw;
          q.on_unreadable(file, e.what());
          return false;
        }
      };
      cv::Size img;
      bool half = false;
      cv::Mat map, bits, gt, pred;
      const bool ok =
          readable(s.image, [&] { img = image_size(s.image); }) && readable(map_file, [&] {
            half = q.pixel.mode == PixelMode::Float16 && map_file.size() > 5 &&
                   map_file.substr(map_file.size() - 5) == ".tiff" && read_tiff_info(map_file).is_float16();
            if (half)
              bits = read_half_tiff_bits(map_file);
            else
              map = read_map(map_file);
          });
      if (!ok) {
        if (q.progress) q.progress(cat, ++done, listing.samples.size());
        continue;
      }
      const cv::Size msz = half ? bits.size() : map.size();
      if (msz != img)
        throw InputError("anomaly map " + map_file + " is " + std::to_string(msz.width) + "x" + std::to_string(msz.height) +
                         " but image " + s.image + " is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                         "; maps must have the original image resolution");
      // Size mismatches are errors of the data, not unreadable files: checked outside readable().
      bool ok2 = !s.anomalous || readable(s.mask, [&] { gt = read_binary_mask(s.mask); });
      if (ok2 && s.anomalous && gt.size() != img) gt = read_binary_mask(s.mask, img);  // throws, naming both sizes
      if (ok2 && binary) {
        if (q.threshold) {
          pred = threshold_map(half ? read_map(map_file) : map, *q.threshold);
        } else {
          const fs::path bp = fs::path(loc.binary_root) / (s.rel + ".png");
          if (!fs::exists(bp))
            throw InputError("no binary map for " + s.rel + ": expected " + bp.string() +
                             " (run advad predict, pass --threshold, or --no-binary)");
          ok2 = readable(bp.string(), [&] { pred = read_binary_mask(bp.string()); });
          if (ok2 && pred.size() != img) pred = read_binary_mask(bp.string(), img);  // throws, naming both sizes
        }
      }
      if (!ok2) {
        if (q.progress) q.progress(cat, ++done, listing.samples.size());
        continue;
      }
      if (half)
        ev.add_half(bits, gt, pred, map_file);
      else
        ev.add(map, gt, pred, map_file);
      if (q.progress) q.progress(cat, ++done, listing.samples.size());
    }
    out.push_back(ev.finish());
  }
  return out;
}

}  // namespace advad
