// advad calibrate: choose a category's threshold from defect-free data only,
// by four rules, print what each gives, and optionally write one into the
// profile's [threshold] group (editing the .ini text, keeping everything else).
//  false-alarms: the lowest threshold at which at most a fraction P of the
//              images is reported defective by the whole decision chain
//              (metrics/false_alarm.h: each image's critical threshold through
//              the real post-processing, then their quantile). The default.
//  mean-std:   mean + k * std of all validation pixel scores (the MVTec AD 2
//              paper's baseline rule, k = 3).
//  percentile: the p-th percentile of those scores.
//  max-f1:     the threshold with the best pooled pixel F1 on the validation
//              images plus copies of them with a pasted synthetic defect
//              (data/synthetic.h plant_defect) whose mask is known.
//  labelled-f1: with --labelled, the best pooled SegF1 of the whole chain on a
//              labelled split at thresholds within the false-alarm budget
//              (metrics/threshold_sweep.h). --min-area auto picks min_area
//              there too; --plot draws the rates against the threshold.
// Scores are the maps before the threshold (after the profile's blur, which
// post-processing applies before thresholding). Percentile and max-F1 work on
// the float16-rounded scores (histogram of 65,536 bins: bounded memory).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "core/profile_reader.h"
#include "cpr/model/model.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/synthetic.h"
#include "metrics/false_alarm.h"
#include "metrics/pixel_rules.h"
#include "metrics/threshold_sweep.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"
#include "tools/calibration_record.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/json_out.h"
#include "tools/profile_arg.h"

namespace advad::tools {
namespace fs = std::filesystem;
namespace {

std::string fmt(double v, int prec = 6) {
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", prec, v);
  return b;
}

}  // namespace

int cmd_calibrate(int argc, char** argv) {
  cli::Args a("calibrate",
              "Choose a category's threshold from defect-free images only and print what each rule gives:\n"
              "  false-alarms  the lowest threshold at which at most a fraction P (--false-alarms) of the images\n"
              "              is reported defective by the whole decision chain the elements run (blur, threshold,\n"
              "              foreground gate, closing, hole fill, erosion, min_area), with the 95 % Clopper-Pearson\n"
              "              upper bound of the false-alarm rate for this many images; the rule to use on a line\n"
              "  mean-std    mean + k*std of all validation pixel scores (MVTec AD 2 paper default, k = 3)\n"
              "  percentile  the p-th percentile of the validation pixel scores\n"
              "  max-f1      best pooled pixel F1 on the validation images plus copies with a pasted synthetic\n"
              "              defect (a random blob of shifted intensity) whose mask is known\n"
              "  labelled-f1 (with --labelled SPLIT) the best pooled pixel SegF1 of the whole chain on that labelled\n"
              "              split among thresholds >= the false-alarms threshold\n"
              "Each rule's row also shows how many images the chain flags and how many pseudo-defects it finds.\n"
              "With --write [RULE] (default: false-alarms) the chosen value goes into the profile's [threshold] group (the rest of the\n"
              "file is kept as it is); for a model package that is the package's profile.ini, also when a\n"
              "profile pointing at the package is given. With --min-area auto, [postproc] min_area is written too.\n"
              "How it was set goes beside it, in [calibration] ([calibration.<split>] for --key <split>): rule,\n"
              "false_alarms (P; the next run's default), images, images_flagged, false_alarm_bound, data.\n"
              "Images the model has in its memory would calibrate far too low. A CPR bank records its training\n"
              "images' content: each calibration image found there is scored without its own bank entries\n"
              "(leave-one-out). Any other model (or a CPR bank without those records) is refused on the train\n"
              "split: calibrate on held-out defect-free images (validation). Fewer than 10 images: a warning.");
  a.positional("profile.ini", "the category profile (its model scores the images)")
      .option("dataset", "DIR", "dataset root holding <category>/")
      .option("category", "NAME", "category folder (default: the profile's category)")
      .option("split", "NAME", "defect-free split to calibrate on (default: validation for AD 2, train for AD)")
      .option("false-alarms", "P",
              "false-alarm budget of the false-alarms rule: the fraction of defect-free images the line may reject, "
              "in [0, 1) (0.01 = 1 in 100); when not given, the profile's [calibration] false_alarms if it has one "
              "(recorded by an earlier --write, or set by hand)",
              "0.01")
      .option("k", "K", "k of the mean-std rule", "3")
      .option("percentile", "P", "p of the percentile rule, in (0, 100)", "99.9")
      .option("max-images", "N", "use at most N images (0 = all)", "0")
      .option("seed", "S", "seed of the pseudo-defects", "1")
      .option("labelled", "SPLIT",
              "a split with ground-truth masks (e.g. test_public): its good and bad images are scored too, and the "
              "threshold with the best pooled pixel SegF1 of the whole chain's masks is found among the thresholds "
              ">= the false-alarms threshold (candidates: the float16 values of the maps, as max-f1, plus the "
              "false-alarms threshold), next to the unconstrained SegF1-best one; prints SegF1, ClassF1 and the "
              "images flagged at both, and adds the rule labelled-f1")
      .option("labelled-candidates", "N",
              "with --labelled: when the maps hold more distinct float16 values than N, sweep N evenly spaced "
              "ones, then every value around the best two points (0 = every value: exact, one chain run per "
              "value and image, slow on large maps)",
              "1000")
      .option("min-area", "auto",
              "auto: pick [postproc] min_area among the profile's value and 0, 4, 16, 64, 256, 1024 px as the one "
              "whose own false-alarms threshold finds the most pseudo-defects (ties: fewer images flagged, the "
              "profile's value, the smaller); prints every candidate; every rule then uses it, and --write writes it")
      .option("plot", "FILE.png",
              "draw the calibration images' false-alarm rate (with its 95 % Clopper-Pearson upper bound), the share "
              "of pseudo-defects found and, with --labelled, SegF1 against the threshold; the written (or "
              "false-alarms) threshold marked")
      .optional_choice("write", "RULE",
                       "write this rule's threshold into the profile: false-alarms (the default when RULE is left "
                       "out) | mean-std | percentile | max-f1 | labelled-f1 (needs --labelled)",
                       {"false-alarms", "mean-std", "percentile", "max-f1", "labelled-f1"}, "false-alarms")
      .option("json", "FILE", "also write the rules' table as JSON to FILE ('-' = stdout)")
      .option("key", "KEY", "[threshold] key to write: default, or a split name such as test_private_mixed", "default")
      .option("device", "DEV", "auto | cpu | cuda | cuda:N", "auto")
      .option("precision", "P",
              "auto | fp32 | fp16 | bf16 | int8, as advadinfer and advad run use it (default auto), so the "
              "threshold is set on the maps the line will see",
              "auto")
      .option("threads", "N", "intra-op CPU threads (0 = all cores)", "0")
      .option("batch", "N", "tiles per model call (0 = all tiles of an image)", "0")
      .flag("allow-train-split", "calibrate on the train split although the model may have seen it (only for a "
                                 "model that was not trained on these images)")
      .strict_flag()
      .quiet_flag();
  if (!a.parse(argc, argv)) return 0;
  if (!a.has("dataset")) throw cli::UsageError("advad calibrate: --dataset <DIR> is required (see advad calibrate --help)");
  const double k = a.number("k"), pct = a.number("percentile");
  double budget = a.number("false-alarms");
  if (!(std::isfinite(k) && k >= 0))
    throw cli::UsageError("advad calibrate: --k must be a finite number >= 0, got " + a.str("k"));
  if (a.integer("batch") < 0) throw cli::UsageError("advad calibrate: --batch must be >= 0 (0 = all tiles), got " + a.str("batch"));
  if (!(budget >= 0 && budget < 1))
    throw cli::UsageError("advad calibrate: --false-alarms must be a fraction in [0, 1) (0.01 = 1 %), got " +
                          a.str("false-alarms"));
  const int max_images = a.integer("max-images"), seed = a.integer("seed"), threads = a.integer("threads");
  if (!(pct > 0 && pct < 100)) throw cli::UsageError("advad calibrate: --percentile must be in (0, 100), got " + a.str("percentile"));
  if (max_images < 0) throw cli::UsageError("advad calibrate: --max-images must be >= 0");
  const std::string write_rule = a.str("write");
  if (!write_rule.empty() && write_rule != "false-alarms" && write_rule != "mean-std" && write_rule != "percentile" &&
      write_rule != "max-f1" && write_rule != "labelled-f1")
    throw cli::UsageError("advad calibrate: --write expects false-alarms | mean-std | percentile | max-f1 | "
                          "labelled-f1, got '" + write_rule + "'");
  const std::string labelled_split = a.str("labelled");
  const int labelled_candidates = a.integer("labelled-candidates");
  if (labelled_candidates < 0 || labelled_candidates == 1)
    throw cli::UsageError("advad calibrate: --labelled-candidates must be 0 (every value) or >= 2, got " +
                          a.str("labelled-candidates"));
  if (write_rule == "labelled-f1" && labelled_split.empty())
    throw cli::UsageError("advad calibrate: --write labelled-f1 needs --labelled SPLIT (a split with ground-truth masks)");
  const bool auto_area = a.has("min-area");
  if (auto_area && a.str("min-area") != "auto")
    throw cli::UsageError("advad calibrate: --min-area takes 'auto', got '" + a.str("min-area") + "'");
  const std::string key = a.str("key");
  if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
    throw cli::UsageError("advad calibrate: --key '" + key + "' is not a valid key (letters, digits, '_' or '-')");

  const std::string profile_path = resolve_profile_path(a.positionals()[0], "calibrate");
  auto profile = std::make_shared<Profile>(load_profile(profile_path));
  if (!a.has("false-alarms")) {
    const double recorded = recorded_false_alarms(*profile, key, budget);
    if (recorded != budget)
      cli::note("advad calibrate: false-alarm budget " + ProfileGroup::shortest(recorded) + " from [" +
                calibration_group(key) + "] false_alarms of " + profile_path);
    budget = recorded;
  }
  const std::string category = a.has("category") ? a.str("category") : profile->category;
  std::string split = a.str("split");
  if (split.empty())
    split = detect_layout(a.str("dataset"), category) == DatasetLayout::MvtecAD2 ? "validation" : "train";
  const SplitListing listing = list_split(a.str("dataset"), category, split);
  if (listing.count_anomalous() > 0)
    throw InputError("split " + category + "/" + split + " holds anomalous images; calibrate on defect-free data only "
                     "(validation for MVTec AD 2)");
  size_t n = listing.samples.size();
  if (max_images > 0) n = std::min(n, static_cast<size_t>(max_images));

  // Images the model holds in its memory: CPR bank entries (found by content)
  // are left out per image; any other model is refused on its training split.
  const bool ad2 = listing.layout == DatasetLayout::MvtecAD2;
  auto refuse_train = [&](const std::string& why) {
    throw InputError(
        "split " + category + "/train is what the model was trained on (" + why +
        "): thresholds from it are far too low. Calibrate on held-out defect-free images: " +
        (ad2 ? std::string("--split validation")
             : std::string("the MVTec AD layout has no held-out normal split; put defect-free images the model "
                           "was not trained on into <category>/validation/good (MVTec AD 2 layout) and use "
                           "--split validation")) +
        " (or --allow-train-split if the model has not seen them)");
  };
  const bool check_train = split == "train" && !a.on("allow-train-split");
  if (check_train && profile->method != "cpr") refuse_train("its weights have seen these images");

  configure_runtime(threads);
  ModelOptions mo;
  mo.device = a.str("device");
  mo.precision = a.str("precision");
  mo.threads = threads;
  std::unique_ptr<Model> owned = create_model(*profile, mo);
  auto* cpr_model = dynamic_cast<cpr::CprModel*>(owned.get());
  FrameScorer scorer(profile, std::move(owned), a.integer("batch"));

  std::vector<std::vector<int64_t>> own(n);
  size_t in_memory = 0;
  if (cpr_model && cpr_model->bank().has_hashes()) {
    for (size_t i = 0; i < n; ++i) {
      try {
        own[i] = cpr_model->bank().entries_of_file(listing.samples[i].image);
      } catch (const InputError&) {
        // unreadable: reported as skipped below
      }
      in_memory += own[i].empty() ? 0 : 1;
    }
    if (in_memory > 0)
      cli::note("advad calibrate: " + std::to_string(in_memory) + " of " + std::to_string(n) +
                " images are in the CPR bank; each is scored without its own bank entries (leave-one-out)");
  } else if (check_train) {
    refuse_train("its CPR bank holds these images and does not record their content, so they cannot be left "
                 "out; re-import or retrain to record it");
  }

  const PostprocSpec& post = profile->post_for(split);
  PostprocSpec post_after_blur = post;  // score() below blurs already
  post_after_blur.blur_ksize = 0;
  std::map<std::pair<int, int>, TileLayout> layouts;
  auto score = [&](const cv::Mat& rgb) {
    auto key2 = std::make_pair(rgb.cols, rgb.rows);
    auto it = layouts.find(key2);
    if (it == layouts.end()) it = layouts.emplace(key2, make_tile_layout(rgb.cols, rgb.rows, profile->tiling)).first;
    cv::Mat m = scorer.score(rgb, PixelFormat::RGB, it->second).host_map();
    if (post.blur_ksize > 0) cv::GaussianBlur(m, m, cv::Size(post.blur_ksize, post.blur_ksize), post.blur_sigma);
    return m;
  };

  ScoreHist clean, pseudo;  // clean: validation images; pseudo: the same with a pasted defect
  // Per image: the largest threshold at which the chain still flags it, and at
  // which it still finds the pasted defect in its copy.
  std::vector<double> critical, found;
  std::vector<ChainImage> clean_maps, pseudo_maps;  // kept for --min-area auto
  cli::Skipped unreadable("calibrate", a.on("strict"));
  size_t used = 0;
  cli::Progress bar("calibrate " + category + "/" + split, static_cast<long>(n));
  for (size_t i = 0; i < n; ++i) {
    cv::Mat rgb;
    try {
      rgb = read_image_rgb(listing.samples[i].image);
      make_tile_layout(rgb.cols, rgb.rows, profile->tiling);  // too small to tile: skipped and named here
    } catch (const InputError& e) {
      unreadable.add(listing.samples[i].image, e.what());
      bar.update(static_cast<long>(i + 1));
      continue;
    }
    if (cpr_model) cpr_model->set_excluded(own[i]);  // the pseudo-defect copy too: it came from this image
    const cv::Mat m = score(rgb);
    clean.add(m, cv::Mat(), true);
    pseudo.add(m, cv::Mat(), false);
    const cv::Mat gate_frame = post.foreground_gate ? rgb : cv::Mat();
    critical.push_back(critical_threshold(m, post_after_blur, gate_frame));
    cv::Mat bad = rgb.clone();
    const cv::Mat mask = plant_defect(bad, static_cast<uint32_t>(seed) * 7919u + static_cast<uint32_t>(i), DefectShape::Blob);
    const cv::Mat m_bad = score(bad);
    pseudo.add(m_bad, mask, false);
    found.push_back(critical_threshold_found(m_bad, mask, post_after_blur, post.foreground_gate ? bad : cv::Mat()));
    if (auto_area) {
      clean_maps.push_back({m, cv::Mat(), gate_frame});
      pseudo_maps.push_back({m_bad, mask, post.foreground_gate ? bad : cv::Mat()});
    }
    if (cpr_model) cpr_model->set_excluded({});
    ++used;
    bar.update(static_cast<long>(i + 1));
  }
  bar.finish();
  if (used == 0) throw InputError("no readable image in " + category + "/" + split + " to calibrate on");
  if (used < 10)
    cli::warn("calibrate", "only " + std::to_string(used) + " images calibrate; thresholds from fewer than 10 "
                           "defect-free images are rough (use more held-out images)");

  const double mean = clean.sum / clean.n_neg;
  const double stdev = std::sqrt(std::max(0.0, clean.sum_sq / clean.n_neg - mean * mean));
  const double t_meanstd = mean_std_threshold(clean, k);
  const double t_pct = percentile_threshold(clean, pct);
  const double t_f1 = max_f1_threshold(pseudo);

  std::vector<MinAreaRow> areas;
  size_t area_pick = 0;
  if (auto_area) {
    std::vector<int> cands = {post.min_area};
    for (int c : {0, 4, 16, 64, 256, 1024})
      if (c != post.min_area) cands.push_back(c);
    areas = min_area_table(clean_maps, pseudo_maps, post_after_blur, budget, cands);
    area_pick = best_min_area(areas, post.min_area);
    std::printf("min_area candidates (false-alarms threshold and pseudo-defects found with each):\n%-9s %-14s %-9s %s\n",
                "min_area", "threshold", "flagged", "pseudo found");
    for (size_t i = 0; i < areas.size(); ++i)
      std::printf("%-9d %-14s %-9s %d/%zu%s\n", areas[i].min_area, fmt(areas[i].budget.threshold, 8).c_str(),
                  (std::to_string(areas[i].budget.flagged) + "/" + std::to_string(used)).c_str(), areas[i].found, used,
                  i == area_pick ? "  <- chosen" : (i == 0 ? "  (profile)" : ""));
    post_after_blur.min_area = areas[area_pick].min_area;
    for (size_t i = 0; i < used; ++i) {  // every rule below uses the chosen min_area
      critical[i] = critical_threshold(clean_maps[i].map, post_after_blur, clean_maps[i].frame);
      found[i] = critical_threshold_found(pseudo_maps[i].map, pseudo_maps[i].gt, post_after_blur, pseudo_maps[i].frame);
    }
  }
  const BudgetThreshold fa = budget_threshold(critical, budget);
  if (!fa.supported) {
    // 0 flagged of n bounds the rate at 1 - 0.05^(1/n): n >= ln(0.05) / ln(1 - P) images support P.
    const std::string need =
        budget > 0 ? "use at least " + fmt(std::ceil(std::log(0.05) / std::log1p(-budget)), 10) +
                         " held-out defect-free images"
                   : "no number of images shows a rate of 0; state the budget as a rate above 0";
    cli::warn("calibrate", std::to_string(used) + " images cannot show a false-alarm rate below " + fmt(100 * budget, 3) +
                               " %: with none flagged the 95 % upper bound is still " +
                               fmt(100 * clopper_pearson_upper(0, fa.n), 3) + " %; " + need);
  }
  auto count_at = [](const std::vector<double>& c, double t) {
    int n = 0;
    for (double x : c) n += x >= t ? 1 : 0;
    return n;
  };

  // --labelled: the same scorer and chain on a labelled split; SegF1-best within the budget and without it.
  LabelledF1 lab;
  if (!labelled_split.empty()) {
    const SplitListing ls = list_split(a.str("dataset"), category, labelled_split);
    if (ls.count_labelled() == 0 || ls.count_anomalous() == 0)
      throw InputError("--labelled " + labelled_split + ": " + category + "/" + labelled_split +
                       " has no labelled defective image with a ground-truth mask (use e.g. test_public)");
    std::vector<ChainImage> imgs;
    cli::Progress lbar("score " + category + "/" + labelled_split, static_cast<long>(ls.samples.size()));
    for (const Sample& s : ls.samples) {
      if (!s.labelled) continue;
      cv::Mat rgb;
      try {
        rgb = read_image_rgb(s.image);
      } catch (const InputError& e) {
        unreadable.add(s.image, e.what());
        continue;
      }
      const cv::Mat gt = s.anomalous ? read_binary_mask(s.mask, rgb.size()) : cv::Mat();
      imgs.push_back({score(rgb), gt, post.foreground_gate ? rgb : cv::Mat()});
      lbar.update(static_cast<long>(imgs.size()));
    }
    lbar.finish();
    lab = labelled_f1(imgs, post_after_blur, fa.threshold, static_cast<size_t>(labelled_candidates));
    std::printf("labelled %s: %zu images (%d good); whole chain, pooled pixel SegF1 at %zu of %zu float16 "
                "candidates\n%-15s %-14s %-8s %-10s %-13s %s\n",
                labelled_split.c_str(), imgs.size(), lab.best.good, lab.sweep.size(), lab.candidates, "point",
                "threshold", "SegF1 %",
                "ClassF1 %", "good flagged", (split + " flagged").c_str());
    for (const auto& [name, pt] : {std::pair<std::string, ChainPoint>{"within budget", lab.constrained}, {"F1-best", lab.best}})
      std::printf("%-15s %-14s %-8.2f %-10.2f %-13s %d/%zu\n", name.c_str(), fmt(pt.threshold, 8).c_str(), 100 * pt.seg.f1(),
                  100 * pt.cls.f1(), (std::to_string(pt.good_flagged) + "/" + std::to_string(pt.good)).c_str(),
                  count_at(critical, pt.threshold), used);
  }

  struct Row {
    std::string rule, how;
    double t;
  };
  std::vector<Row> rows = {
      {"false-alarms", "at most " + fmt(100 * budget, 4) + " % of " + std::to_string(used) + " images flagged", fa.threshold},
      {"mean-std", "mean " + fmt(mean, 4) + " + " + fmt(k, 3) + " x std " + fmt(stdev, 4), t_meanstd},
      {"percentile", fmt(pct, 6) + "th percentile", t_pct},
      {"max-f1", "best pooled F1 on " + std::to_string(used) + " pseudo-anomalous images", t_f1},
  };
  if (!labelled_split.empty())
    rows.push_back({"labelled-f1", "best SegF1 on " + labelled_split + " within the budget", lab.constrained.threshold});
  std::cout << "category " << category << ", " << used << " defect-free images of " << split
            << (in_memory ? " (leave-one-out for " + std::to_string(in_memory) + ")" : std::string()) << ", "
            << clean.n_neg << " pixels; current threshold " << profile->threshold_for(key == "default" ? "" : key) << "\n";
  const std::string px_fpr = split + " px FPR %";
  std::printf("%-13s %-14s %-9s %-15s %-17s %-16s %s\n", "rule", "threshold", "flagged", px_fpr.c_str(),
              "pseudo found", "pseudo SegF1 %", "from");
  nlohmann::json json_rows = nlohmann::json::array();
  for (const auto& r : rows) {
    const AtThreshold at = evaluate_at(pseudo, r.t);
    const AtThreshold clean_at = evaluate_at(clean, r.t);
    const int flagged = count_at(critical, r.t), hits = count_at(found, r.t);
    const std::string flagged_text = std::to_string(flagged) + "/" + std::to_string(used);
    const std::string found_text = std::to_string(hits) + "/" + std::to_string(used);
    std::printf("%-13s %-14s %-9s %-15.4f %-17s %-16.2f %s\n", r.rule.c_str(), fmt(r.t, 8).c_str(), flagged_text.c_str(),
                100 * clean_at.fpr, found_text.c_str(), 100 * at.f1, r.how.c_str());
    json_rows.push_back({{"rule", r.rule},
                         {"threshold", r.t},
                         {"images_flagged", flagged},
                         {"images", used},
                         {"image_false_alarm_upper95", clopper_pearson_upper(flagged, static_cast<int>(used))},
                         {"pixel_fpr", clean_at.fpr},
                         {"pseudo_defects_found", hits},
                         {"pseudo_segf1", at.f1},
                         {"from", r.how}});
  }
  std::printf("false-alarms: %d of %d images flagged at %s (%.2f %%); 95 %% upper bound of the rate %.2f %% "
              "(Clopper-Pearson, %d images)\n",
              fa.flagged, fa.n, fmt(fa.threshold, 8).c_str(), 100.0 * fa.flagged / fa.n, 100 * fa.upper95, fa.n);
  std::fflush(stdout);
  nlohmann::json doc = {{"category", category},        {"split", split},
                        {"images", used},              {"false_alarm_budget", budget},
                        {"false_alarm_upper95", fa.upper95}, {"budget_supported", fa.supported},
                        {"min_area", post_after_blur.min_area}, {"rules", json_rows}};
  for (const auto& r : areas)
    doc["min_area_candidates"].push_back(
        {{"min_area", r.min_area}, {"threshold", r.budget.threshold}, {"images_flagged", r.budget.flagged}, {"pseudo_defects_found", r.found}});
  if (!labelled_split.empty())
    for (const auto& [name, pt] : {std::pair<std::string, ChainPoint>{"within_budget", lab.constrained}, {"f1_best", lab.best}})
      doc["labelled"][name] = {{"split", labelled_split}, {"threshold", pt.threshold}, {"seg_f1", pt.seg.f1()},
                               {"class_f1", pt.cls.f1()}, {"good_flagged", pt.good_flagged}, {"good", pt.good}};
  if (a.has("json")) write_json_output(a.str("json"), doc);

  double t_write = fa.threshold;
  for (const auto& r : rows)
    if (r.rule == write_rule) t_write = r.t;
  if (a.has("plot")) {
    CalibrationPlot pl{critical, found, lab.sweep, t_write, write_rule.empty() ? "false-alarms" : write_rule};
    plot_calibration(pl, a.str("plot"));
    std::cout << "plot: " << a.str("plot") << "\n";
  }
  if (!write_rule.empty()) {
    char v[40];
    std::snprintf(v, sizeof v, "%.17g", t_write);
    std::vector<IniEdit> edits = {{"threshold", key, v}};
    if (auto_area) edits.push_back({"postproc", "min_area", std::to_string(post_after_blur.min_area)});
    CalibrationRecord rec;
    rec.rule = write_rule;
    rec.false_alarms = budget;
    rec.images = static_cast<int>(used);
    rec.images_flagged = count_at(critical, t_write);
    rec.bound = clopper_pearson_upper(rec.images_flagged, rec.images);
    rec.data = (fs::path(a.str("dataset")) / category / split).string();
    if (!labelled_split.empty()) rec.labelled = (fs::path(a.str("dataset")) / category / labelled_split).string();
    rec.k = k;
    rec.percentile = pct;
    if (auto_area) rec.min_area = post_after_blur.min_area;
    const std::vector<IniEdit> record = calibration_edits(rec, key, profile_path);
    edits.insert(edits.end(), record.begin(), record.end());
    edit_profile_file(profile_path, edits, {calibration_group(key)});
    std::cout << "wrote [threshold] " << key << " = " << v << " (" << write_rule << ")"
              << (auto_area ? " and [postproc] min_area = " + std::to_string(post_after_blur.min_area) : std::string())
              << " to " << profile_path << ", with how it was set in [" << calibration_group(key) << "]\n";
  }
  std::cout << std::flush;
  return unreadable.finish(n);
}

}  // namespace advad::tools
