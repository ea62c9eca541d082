// advad synth: preview the pseudo-anomalies CPR training would synthesise for
// a profile ([train] synth keys), writing the samples, their masks and a
// contact sheet so the settings can be checked by eye before training.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/profile.h"
#include "cpr/model/image.h"
#include "cpr/model/settings.h"
#include "cpr/synth/synth.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/subcommands.h"

namespace advad::tools {
namespace fs = std::filesystem;
namespace {

// Takes every --set KEY=VALUE (or --set=KEY=VALUE) out of argv: cli::Args keeps
// one value per option, and --set may repeat.
std::vector<std::string> take_sets(int argc, char** argv, std::vector<char*>& rest) {
  std::vector<std::string> sets;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--set") {
      if (i + 1 >= argc) throw cli::UsageError("advad synth: --set needs a value <KEY=VALUE>");
      sets.push_back(argv[++i]);
    } else if (a.rfind("--set=", 0) == 0) {
      sets.push_back(a.substr(6));
    } else {
      rest.push_back(argv[i]);
    }
  }
  return sets;
}

std::map<std::string, std::string> parse_sets(const std::vector<std::string>& sets) {
  const auto& keys = cpr::synth_setting_keys();
  std::string accepted;
  for (const auto& k : keys) accepted += (accepted.empty() ? "" : ", ") + k;
  std::map<std::string, std::string> out;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw cli::UsageError("advad synth: --set expects KEY=VALUE, got '" + s + "'");
    const std::string key = s.substr(0, eq);
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      throw cli::UsageError("advad synth: --set " + key + ": not a synthesis key; accepted: " + accepted);
    out[key] = s.substr(eq + 1);
  }
  return out;
}

std::string numbered(int i, int count) {
  const size_t digits = std::max<size_t>(3, std::to_string(std::max(count - 1, 0)).size());
  std::string s = std::to_string(i);
  return std::string(digits > s.size() ? digits - s.size() : 0, '0') + s;
}

// One contact-sheet cell: the sample | the sample with its mask outlined in red.
cv::Mat sheet_cell(const cpr::SynthSample& s, int thumb) {
  cv::Mat img, mask;
  cv::resize(s.image, img, cv::Size(thumb, thumb), 0, 0, cv::INTER_AREA);
  cv::resize(s.mask, mask, cv::Size(thumb, thumb), 0, 0, cv::INTER_NEAREST);
  cv::Mat outlined = img.clone();
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(outlined, contours, -1, cv::Scalar(0, 0, 255), 1);
  cv::Mat cell;
  cv::hconcat(img, outlined, cell);
  return cell;
}

}  // namespace

int cmd_synth(int argc, char** argv) {
  if (argc > 0 && std::string(argv[0]) == "mvtec-ad2") return synth_ad2_main(argc - 1, argv + 1);
  cli::Args a("synth",
              "Preview the pseudo-anomalies CPR training synthesises from a profile's [train] keys\n"
              "(synth = perlin | cutpaste | both, synth_size, anomaly_ratio, textures, defects, defect_scales).\n"
              "Sample i uses training image i mod (number of images), sorted by path, and its own seed derived\n"
              "from --seed and i. Writes <out>/NNN.png (the sample, synth_size x synth_size), <out>/NNN_mask.png\n"
              "(0/255) and <out>/preview.png (a contact sheet: sample | sample with the mask outlined in red).\n"
              "No foreground map is applied here (every pixel counts as foreground), even when the profile's\n"
              "[cpr] foreground = on: training passes the category's fitted FEB maps, which restrict perlin\n"
              "masks and cut-paste centres to the object.\n"
              "\n"
              "advad synth mvtec-ad2 --out DIR [options] instead writes a miniature synthetic MVTec AD 2 (all eight\n"
              "categories, real layout, planted defects with masks); 'advad synth mvtec-ad2 --help' lists its flags.");
  a.positional("profile.ini", "the category profile (its [train] synthesis keys and [cpr] foreground; the model\n"
                              "      package need not exist yet)")
      .option("train", "DIR", "folder of defect-free training images (searched recursively, sorted by path)")
      .option("out", "DIR", "output folder (created; existing files of the same names are overwritten)")
      .option("count", "N", "number of samples to write (>= 1)", "16")
      .option("seed", "S", "seed; the same seed, profile and images give the same samples", "0")
      .option("set", "KEY=VALUE",
              "override one synthesis key of [train] (repeatable; folders resolve against the profile's folder),\n"
              "      e.g. --set synth=cutpaste --set anomaly_ratio=1")
      .quiet_flag();
  std::vector<char*> rest;
  const auto sets = take_sets(argc, argv, rest);
  if (!a.parse(static_cast<int>(rest.size()), rest.data())) return 0;
  if (!a.has("train")) throw cli::UsageError("advad synth: --train DIR is required (the defect-free training images)");
  if (!a.has("out")) throw cli::UsageError("advad synth: --out DIR is required (where the samples go)");
  const int count = a.integer("count"), seed = a.integer("seed");
  if (count < 1) throw cli::UsageError("advad synth: --count must be >= 1, got " + a.str("count"));
  const auto overrides = parse_sets(sets);

  const Profile profile = load_profile(a.positionals()[0], /*check_model_file=*/false);
  const cpr::SynthSettings settings = cpr::parse_synth_settings(profile, overrides);
  const cpr::SynthSources sources = cpr::load_synth_sources(settings);
  const std::string train = a.str("train");
  const auto names = cpr::list_training_images(train);

  const fs::path out(a.str("out"));
  std::error_code ec;
  fs::create_directories(out, ec);
  if (!fs::is_directory(out)) throw InputError("cannot create output folder '" + out.string() + "'");

  const char* mode = settings.mode == cpr::SynthMode::Perlin ? "perlin"
                     : settings.mode == cpr::SynthMode::CutPaste ? "cutpaste" : "both";
  std::cout << "synth: " << mode << " at " << settings.size << "x" << settings.size << ", " << names.size()
            << " training images, " << sources.textures.size() << " textures, " << sources.libraries.size()
            << " defect libraries\n";
  if (cpr::parse_cpr_settings(profile).foreground)
    std::cout << "note: [cpr] foreground = on, but this preview uses no foreground map (training uses the FEB maps)\n";

  const int thumb = 160, per_row = 4;
  std::vector<cv::Mat> cells;
  int anomalous = 0;
  cli::Progress bar("synthesise", count);
  for (int i = 0; i < count; ++i) {
    const std::string path = (fs::path(train) / names[static_cast<size_t>(i) % names.size()]).string();
    const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
    if (image.empty()) throw InputError("training image '" + path + "' cannot be read as an image");
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(i)};
    std::mt19937_64 rng(seq);
    const cpr::SynthSample s = cpr::synthesize(image, cv::Mat(), settings, sources, rng);
    anomalous += cv::countNonZero(s.mask) > 0 ? 1 : 0;
    const std::string stem = numbered(i, count);
    if (!cv::imwrite((out / (stem + ".png")).string(), s.image) ||
        !cv::imwrite((out / (stem + "_mask.png")).string(), s.mask))
      throw InputError("cannot write " + (out / (stem + ".png")).string());
    cells.push_back(sheet_cell(s, thumb));
    bar.update(i + 1);
  }
  bar.finish();

  // Contact sheet: per_row cells a row, a 4-pixel grey gap between cells.
  const int gap = 4, cw = 2 * thumb, rows = (count + per_row - 1) / per_row, cols = std::min(count, per_row);
  cv::Mat sheet(rows * (thumb + gap) + gap, cols * (cw + gap) + gap, CV_8UC3, cv::Scalar(64, 64, 64));
  for (int i = 0; i < count; ++i)
    cells[static_cast<size_t>(i)].copyTo(
        sheet(cv::Rect(gap + (i % per_row) * (cw + gap), gap + (i / per_row) * (thumb + gap), cw, thumb)));
  if (!cv::imwrite((out / "preview.png").string(), sheet))
    throw InputError("cannot write " + (out / "preview.png").string());
  std::cout << "wrote " << count << " samples (" << anomalous << " with a defect, " << count - anomalous
            << " normal) and preview.png to " << out.string() << "\n";
  return 0;
}

}  // namespace advad::tools
