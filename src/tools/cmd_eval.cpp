// advad eval: the MVTec AD 2 metrics of predicted maps against a dataset's
// ground truth, per object and as the mean over objects: AU-PRO at the given
// limits (0.05 = MVTec AD 2, 0.3 = classic), SegF1, ClassF1, image and pixel
// AUROC. Tables for the terminal, Markdown, CSV and JSON, and a PRO-curve plot.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "metrics/evaluate_dataset.h"
#include "metrics/pro_plot.h"
#include "metrics/report.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace advad::tools {
namespace {

void write_text(const std::string& path, const std::string& text) {
  ensure_parent_dir(path);
  std::ofstream f(path);
  f << text;
  if (!f) throw InputError("cannot write " + path + ": check that the folder is writable");
}

}  // namespace

int cmd_eval(int argc, char** argv) {
  cli::Args a("eval",
              "Evaluate anomaly maps against ground truth with the MVTec AD 2 metrics, per object and as the\n"
              "unweighted mean over objects. AU-PRO is exactly the official compute_pro + trapezoid (8-connected\n"
              "regions, all normal pixels in the FPR, ties merged, interpolated at the limit, divided by it).\n"
              "SegF1 pools TP/FP/FN over all pixels of all images; ClassF1 calls an image anomalous when its\n"
              "binary map has any positive pixel. Binary maps are the PNGs advad predict wrote, or the maps\n"
              "thresholded with --threshold.");
  a.option("dataset", "DIR", "dataset root with the ground truth (<category>/test_public/ground_truth/... or AD v1)")
      .option("maps", "DIR",
              "predictions: the --out folder of advad predict (holding anomaly_images/), or a folder with "
              "<category>/<split>/... maps (.tiff float16/float32, or gray .png)")
      .option("binary", "DIR", "folder of binary PNGs laid out like the maps (default: <maps>/anomaly_images_thresholded)")
      .option("categories", "LIST", "comma-separated categories (default: every category with maps)")
      .option("split", "NAME", "split with ground truth (default: test_public for AD 2, test for AD)")
      .option("threshold", "T", "binarize maps at score >= T for SegF1/ClassF1 instead of reading binary PNGs")
      .flag("no-binary", "skip SegF1 and ClassF1")
      .option("limits", "LIST", "AU-PRO integration limits in (0,1], comma-separated", "0.05,0.3")
      .option("mode", "M",
              "float16: exact over the float16 values the server reads, memory independent of the image count; "
              "exact: sort all scores (exact for float32 maps too, ~4 bytes per pixel)",
              "float16")
      .option("markdown", "FILE", "also write the table as Markdown")
      .option("csv", "FILE", "also write the table as CSV (fractions, full precision)")
      .option("json", "FILE", "also write all numbers as JSON")
      .option("plot", "FILE", "draw the PRO curves (FPR 0..largest limit) into this PNG")
      .strict_flag()
      .quiet_flag();
  if (!a.parse(argc, argv)) return 0;
  if (!a.has("dataset")) throw cli::UsageError("advad eval: --dataset <DIR> is required (see advad eval --help)");
  if (!a.has("maps")) throw cli::UsageError("advad eval: --maps <DIR> is required (see advad eval --help)");

  EvalRequest q;
  q.dataset_root = a.str("dataset");
  q.maps_dir = a.str("maps");
  q.binary_dir = a.str("binary");
  q.categories = cli::split_commas(a.str("categories"));
  q.split = a.str("split");
  q.use_binary = !a.on("no-binary");
  if (a.has("threshold")) q.threshold = a.number("threshold");
  q.pixel.limits.clear();
  for (const auto& l : cli::split_commas(a.str("limits"))) {
    double v;
    try {
      size_t used = 0;
      v = std::stod(l, &used);
      if (used != l.size()) throw std::invalid_argument(l);
    } catch (const std::exception&) {
      throw cli::UsageError("advad eval: --limits expects numbers in (0,1] separated by commas, got '" + l + "'");
    }
    if (!(v > 0 && v <= 1)) throw cli::UsageError("advad eval: AU-PRO limit " + l + " is outside (0,1]");
    q.pixel.limits.push_back(v);
  }
  if (q.pixel.limits.empty()) throw cli::UsageError("advad eval: --limits is empty");
  try {
    q.pixel.mode = parse_pixel_mode(a.str("mode"));
  } catch (const InputError& e) {
    throw cli::UsageError(std::string("advad eval: --mode: ") + e.what());
  }
  q.pixel.plot_limit = *std::max_element(q.pixel.limits.begin(), q.pixel.limits.end());

  std::unique_ptr<cli::Progress> bar;
  std::string bar_cat;
  size_t samples = 0;  // over all categories, for the summary
  q.progress = [&](const std::string& cat, size_t done, size_t total) {
    if (cat != bar_cat) {
      if (bar) bar->finish();
      bar = std::make_unique<cli::Progress>("eval " + cat, static_cast<long>(total));
      bar_cat = cat;
      samples += total;
    }
    bar->update(static_cast<long>(done));
  };
  cli::Skipped unreadable("eval", a.on("strict"));
  q.on_unreadable = [&](const std::string& file, const std::string& why) { unreadable.add(file, why); };
  const std::vector<ObjectResult> results = evaluate_dataset(q);
  if (bar) bar->finish();

  std::cout << "split " << results.front().split << ", AU-PRO mode " << to_string(q.pixel.mode)
            << (results.front().has_binary ? "" : ", no binary maps (SegF1/ClassF1 n/a)") << "\n"
            << format_table(results, TableStyle::Terminal);
  if (a.has("markdown")) write_text(a.str("markdown"), format_table(results, TableStyle::Markdown));
  if (a.has("csv")) write_text(a.str("csv"), format_table(results, TableStyle::Csv));
  if (a.has("json")) write_text(a.str("json"), results_to_json(results, to_string(q.pixel.mode)).dump(2) + "\n");
  if (a.has("plot")) plot_pro_curves(results, a.str("plot"));
  std::cout << std::flush;
  if (unreadable.count())
    std::cerr << "advad eval: the metrics above leave out the skipped images\n";
  return unreadable.finish(samples);
}

}  // namespace advad::tools
