// advad predict: run a profile's model over a dataset split and write, per
// image, the float anomaly map (TIFF) and the post-processed binary map (PNG)
// in the MVTec AD 2 server layout, named after the image's path relative to
// the dataset root:
//   <out>/anomaly_images/<category>/<split>/[good|bad/]<stem>.tiff
//   <out>/anomaly_images_thresholded/<category>/<split>/[good|bad/]<stem>.png
// Scoring is the elements' code path (FrameScorer: tiles -> model -> stitch),
// then core's postprocess with the profile's threshold and post-processing for
// the split. Resumable: images whose two outputs exist are skipped.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "core/error.h"
#include "core/model.h"
#include "core/postproc.h"
#include "core/postproc_tensor.h"
#include "core/profile.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/tiff_io.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/profile_arg.h"

namespace advad::tools {
namespace fs = std::filesystem;

namespace {

// Writes through a temporary name and renames, so an interrupted run never
// leaves a truncated file that a resumed run would skip.
template <typename WriteFn>
void write_atomically(const fs::path& path, WriteFn write) {
  ensure_parent_dir(path.string());
  // Same extension (the writers pick the format from it), hidden name.
  const fs::path tmp = path.parent_path() / (".tmp_" + path.filename().string());
  write(tmp.string());
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw InputError("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
}

}  // namespace

int cmd_predict(int argc, char** argv) {
  cli::Args a("predict",
              "Score every image of a dataset split with a profile's model and write anomaly maps (float TIFF)\n"
              "and binary maps (0/255 PNG) in the MVTec AD 2 server layout under --out. Images whose two outputs\n"
              "already exist are skipped (resume after an interruption); --force redoes them.");
  a.positional("profile.ini", "the category profile (model, tiling, threshold, post-processing)")
      .option("dataset", "DIR", "dataset root holding <category>/ (MVTec AD 2 or MVTec AD layout)")
      .option("category", "NAME", "category folder under the dataset root (default: the profile's category)")
      .option("split", "NAME",
              "split to score: train, validation, test_public, test_private, test_private_mixed (AD 2); train, test (AD)",
              "test_public")
      .option("out", "DIR", "output root; anomaly_images/ and anomaly_images_thresholded/ are created in it")
      .flag("float32", "store maps as float32 TIFF instead of float16 (the server wants float16)")
      .flag("no-binary", "do not write the binary PNGs")
      .flag("force", "recompute images whose outputs exist")
      .option("limit", "N", "score at most N images (0 = all)", "0")
      .option("csv", "FILE",
              "also write one row per image scored in this run: image, score (the map maximum, on the threshold's "
              "scale), image_score (the method's own score), threshold, verdict (ok/defect; empty with --no-binary)")
      .option("device", "DEV", "auto | cpu | cuda | cuda:N", "auto")
      .option("precision", "P",
              "auto | fp32 | fp16 | bf16 | int8; auto: the profile's [profile] precision, else bf16 where the "
              "device has native bf16 and the method a bf16 path (INP-Former), else fp32",
              "auto")
      .option("threads", "N", "intra-op CPU threads (0 = all cores)", "0")
      .option("batch", "N", "tiles per model call (0 = all tiles of an image at once)", "0")
      .strict_flag()
      .quiet_flag();
  if (!a.parse(argc, argv)) return 0;
  if (!a.has("dataset")) throw cli::UsageError("advad predict: --dataset <DIR> is required (see advad predict --help)");
  if (!a.has("out")) throw cli::UsageError("advad predict: --out <DIR> is required (see advad predict --help)");
  const int limit = a.integer("limit"), threads = a.integer("threads"), batch = a.integer("batch");
  if (limit < 0) throw cli::UsageError("advad predict: --limit must be >= 0, got " + a.str("limit"));
  if (batch < 0) throw cli::UsageError("advad predict: --batch must be >= 0, got " + a.str("batch"));

  auto profile = std::make_shared<Profile>(load_profile(resolve_profile_path(a.positionals()[0], "predict")));
  const std::string category = a.has("category") ? a.str("category") : profile->category;
  const std::string split = a.str("split");
  const SplitListing listing = list_split(a.str("dataset"), category, split);
  const fs::path out(a.str("out"));
  const bool binary = !a.on("no-binary");
  const MapDepth depth = a.on("float32") ? MapDepth::Float32 : MapDepth::Float16;
  const double threshold = profile->threshold_for(split);
  const PostprocSpec& post = profile->post_for(split);

  std::vector<const Sample*> todo;
  size_t skipped = 0;
  for (const auto& s : listing.samples) {
    if (limit > 0 && todo.size() + skipped >= static_cast<size_t>(limit)) break;
    const bool done = fs::exists(out / "anomaly_images" / (s.rel + ".tiff")) &&
                      (!binary || fs::exists(out / "anomaly_images_thresholded" / (s.rel + ".png")));
    if (done && !a.on("force"))
      ++skipped;
    else
      todo.push_back(&s);
  }
  std::string head = "advad predict: " + category + "/" + split + ": " + std::to_string(todo.size()) + " images to score";
  if (skipped) head += ", " + std::to_string(skipped) + " already done (--force to redo)";
  cli::note(head);
  if (todo.empty()) return 0;

  configure_runtime(threads);
  ModelOptions mo;
  mo.device = a.str("device");
  mo.precision = a.str("precision");
  mo.threads = threads;
  FrameScorer scorer(profile, create_model(*profile, mo), batch);
  cli::note("model: " + scorer.model().describe());

  std::ofstream csv;
  if (a.has("csv")) {
    csv.open(a.str("csv"));
    if (!csv) throw InputError("cannot write '" + a.str("csv") + "' (check the folder and its permissions)");
    csv << "image,score,image_score,threshold,verdict\n";
  }
  std::map<std::pair<int, int>, TileLayout> layouts;  // one per image size
  cli::Progress bar("predict " + category + "/" + split, static_cast<long>(todo.size()));
  size_t anomalous = 0, written = 0;
  cli::Skipped unreadable("predict", a.on("strict"));
  for (size_t i = 0; i < todo.size(); ++i) {
    const Sample& s = *todo[i];
    cv::Mat rgb;
    std::map<std::pair<int, int>, TileLayout>::iterator it;
    try {
      rgb = read_image_rgb(s.image);
      // An image the profile cannot tile (smaller than its grid) is skipped and named like an unreadable one.
      auto key = std::make_pair(rgb.cols, rgb.rows);
      it = layouts.find(key);
      if (it == layouts.end()) it = layouts.emplace(key, make_tile_layout(rgb.cols, rgb.rows, profile->tiling)).first;
    } catch (const InputError& e) {
      unreadable.add(s.image, e.what());
      bar.update(static_cast<long>(i + 1), s.rel);
      continue;
    }
    const AnomalyMap am = scorer.score(rgb, PixelFormat::RGB, it->second);
    const cv::Mat& map = am.host_map();  // written below: the one download of a device map
    write_atomically(out / "anomaly_images" / (s.rel + ".tiff"),
                     [&](const std::string& p) { write_float_tiff(p, map, depth); });
    double score = 0;
    cv::minMaxLoc(map, nullptr, &score);
    std::string verdict;
    if (binary) {
      const Detection det = postprocess(am, threshold, post, rgb);
      anomalous += det.anomalous ? 1 : 0;
      score = det.score;
      verdict = det.anomalous ? "defect" : "ok";
      write_atomically(out / "anomaly_images_thresholded" / (s.rel + ".png"),
                       [&](const std::string& p) { write_image(p, det.mask); });
    }
    if (csv.is_open()) {
      csv << s.rel << "," << score << "," << am.score << "," << threshold << "," << verdict << "\n" << std::flush;
      if (!csv) throw InputError("cannot write '" + a.str("csv") + "' (disk full?)");
    }
    ++written;
    bar.update(static_cast<long>(i + 1), s.rel);
  }
  bar.finish();
  std::cout << "wrote " << written << " maps" << (binary ? " and binary maps" : "") << " under " << out.string();
  if (binary) std::cout << " (" << anomalous << " images anomalous at threshold " << threshold << ")";
  std::cout << "\n" << std::flush;
  return unreadable.finish(todo.size());
}

}  // namespace advad::tools
