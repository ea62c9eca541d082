// advad synth mvtec-ad2: write a miniature synthetic MVTec AD 2 (all eight
// categories, the real layout, planted defects with masks) for trying the
// whole train / predict / eval chain without the real data.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "data/synth_ad2/synth_ad2.h"
#include "tools/cli.h"
#include "tools/subcommands.h"

namespace advad::tools {
namespace {

int in_range(const cli::Args& a, const std::string& flag, int lo, int hi) {
  const int v = a.integer(flag);
  if (v < lo || v > hi)
    throw cli::UsageError("advad synth mvtec-ad2: --" + flag + " must be in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "], got " + a.str(flag));
  return v;
}

std::string all_names() {
  std::string s;
  for (const auto& n : synthetic_ad2_categories()) s += (s.empty() ? "" : ",") + n;
  return s;
}

std::string summary_table(const SynthAd2Result& r) {
  std::ostringstream o;
  char line[200];
  std::snprintf(line, sizeof line, "%-12s %-10s %-5s %6s %6s %12s %10s %10s %8s\n", "category", "size", "mode", "train",
                "valid", "public g/b", "private", "mixed", "defects");
  o << line;
  for (const auto& c : r.categories) {
    const std::string size = std::to_string(c.width) + "x" + std::to_string(c.height);
    const std::string pub = std::to_string(c.n_test_good) + "/" + std::to_string(c.n_test_bad);
    const std::string priv = std::to_string(c.n_private) + " (" + std::to_string(c.n_private_bad) + " bad)";
    std::snprintf(line, sizeof line, "%-12s %-10s %-5s %6d %6d %12s %10s %10s %8d\n", c.name.c_str(), size.c_str(),
                  c.gray ? "gray" : "RGB", c.n_train, c.n_validation, pub.c_str(), priv.c_str(), priv.c_str(),
                  c.n_test_bad + 2 * c.n_private_bad);
    o << line;
  }
  return o.str();
}

}  // namespace

int synth_ad2_main(int argc, char** argv) {
  const SynthAd2Spec d;
  cli::Args a("synth mvtec-ad2",
              "Write a miniature synthetic MVTec AD 2: the eight categories (can, fabric, fruit_jelly, rice,\n"
              "sheet_metal, vial, wallplugs, walnuts) drawn with OpenCV in the real layout and file names:\n"
              "<out>/<category>/train/good, validation/good, test_public/{good,bad,ground_truth/bad},\n"
              "test_private (training lighting) and test_private_mixed (the same scenes relit: brighter, darker,\n"
              "colour cast, gradient). Images keep the real aspect ratio and gray/colour mode; defects look like\n"
              "the category's (dents, scratches, holes, stains, foreign objects, cracks, missing parts) and lie on\n"
              "the product, each with an exact 0/255 mask. About half of the private images have a defect; their\n"
              "masks, absent from a real dataset, go to <out>/_private_ground_truth/<category>/<split>/ (no mask =\n"
              "good). <out>/<category>_contact_sheet.png shows one good and one bad image with its mask outlined.\n"
              "Deterministic: the same flags give the same bytes.");
  a.option("out", "DIR", "output folder (created)")
      .option("categories", "LIST", "comma-separated categories", all_names())
      .option("seed", "S", "seed, in [0, 2147483647]", std::to_string(d.seed))
      .option("long-side", "PX",
              "longer image side in pixels, in [64, 4096]; the other side keeps the real aspect and both are\n"
              "      rounded to a multiple of the seed profile's tiling grid (at 256 every tile is >= 32 px)",
              std::to_string(d.long_side))
      .option("train", "N", "images in train/good, in [1, 999]", std::to_string(d.n_train))
      .option("validation", "N", "images in validation/good, in [1, 999]", std::to_string(d.n_validation))
      .option("test-good", "N", "images in test_public/good, in [0, 999]", std::to_string(d.n_test_good))
      .option("test-bad", "N", "images in test_public/bad (each with a mask), in [1, 999]", std::to_string(d.n_test_bad))
      .option("private", "N", "images in test_private and in test_private_mixed each, in [1, 999]",
              std::to_string(d.n_private))
      .flag("force", "replace existing category folders (without it a non-empty one is refused, exit 2)")
      .flag("no-contact-sheets", "do not write <out>/<category>_contact_sheet.png")
      .quiet_flag();
  if (!a.parse(argc, argv)) return 0;
  if (!a.has("out")) throw cli::UsageError("advad synth mvtec-ad2: --out DIR is required (where the dataset goes)");
  if (!a.positionals().empty())
    throw cli::UsageError("advad synth mvtec-ad2: unexpected argument '" + a.positionals()[0] + "'");

  SynthAd2Spec spec;
  spec.seed = static_cast<uint32_t>(in_range(a, "seed", 0, 2147483647));
  spec.long_side = in_range(a, "long-side", 64, 4096);
  spec.n_train = in_range(a, "train", 1, 999);
  spec.n_validation = in_range(a, "validation", 1, 999);
  spec.n_test_good = in_range(a, "test-good", 0, 999);
  spec.n_test_bad = in_range(a, "test-bad", 1, 999);
  spec.n_private = in_range(a, "private", 1, 999);
  spec.overwrite = a.on("force");
  spec.contact_sheets = !a.on("no-contact-sheets");
  spec.categories = cli::split_commas(a.str("categories"));
  if (spec.categories.empty())
    throw cli::UsageError("advad synth mvtec-ad2: --categories is empty; accepted: " + all_names());
  for (const auto& c : spec.categories) {
    bool known = false;
    for (const auto& n : synthetic_ad2_categories()) known = known || n == c;
    if (!known)
      throw cli::UsageError("advad synth mvtec-ad2: --categories: unknown category '" + c + "'; accepted: " + all_names());
  }
  // The seed profiles tile some categories; tiny tiles cannot be trained.
  for (const auto& c : spec.categories)
    if (const int t = synthetic_ad2_min_tile(c, spec.long_side); t < 28)
      cli::warn("synth mvtec-ad2", c + ": the seed profile's tiles are " + std::to_string(t) +
                                       " px at --long-side " + std::to_string(spec.long_side) +
                                       " (under 28); use 256 or more to train it");

  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<cli::Progress> bar;
  std::string current;
  spec.progress = [&](const std::string& cat, int done, int total) {
    if (cat != current) {
      if (bar) bar->finish();
      current = cat;
      const auto [w, h] = synthetic_ad2_size(cat, spec.long_side);
      cli::note("advad synth mvtec-ad2: " + cat + " (" + std::to_string(w) + "x" + std::to_string(h) + ")");
      bar = std::make_unique<cli::Progress>(cat, total, /*estimate=*/false);
    }
    bar->update(done);
  };
  const SynthAd2Result r = write_synthetic_mvtec_ad2(a.str("out"), spec);
  if (bar) bar->finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << summary_table(r);
  char tail[160];
  std::snprintf(tail, sizeof tail, "wrote %zu categories to %s in %.1f s (private masks in %s/_private_ground_truth)\n",
                r.categories.size(), r.root.c_str(), secs, r.root.c_str());
  std::cout << tail;
  return 0;
}

}  // namespace advad::tools
