// advad train <profile.ini> for method = cpr: contrastive training of the CPR
// LRB heads, then a package (weights + bank + profile). Everything that
// computes is in src/cpr/train/; this file maps flags onto [train] keys,
// shows progress and reports.
#include <iostream>
#include <map>

#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "cpr/train/run.h"
#include "cpr/train/settings.h"
#include "tools/cli.h"
#include "tools/train_cli.h"
#include "tools/subcommands.h"

namespace advad::tools {

namespace {

// Flags that override one [train] key each (flag = key with '-' for '_').
const std::vector<TrainKeyFlag> kCprKeyFlags = {
    {"data", "DIR", "[train] data: category folder with train/good (MVTec AD 2 / AD), or a folder of images"},
    {"backbone_weights", "FILE", "[train] backbone_weights: torchvision densenet201-*.pth, or 'random' (tests, demos)"},
    {"init", "FILE", "[train] init: official CPR weights/<category>.pth the heads start from (optional)"},
    {"size", "N", "[train] size: network input side, a multiple of 8 [320]"},
    {"steps", "N", "[train] steps: optimisation steps [2000]"},
    {"batch", "N", "[train] batch: (query, reference) pairs per step [8]"},
    {"lr", "X", "[train] lr: AdamW learning rate, constant [1e-3]"},
    {"weight_decay", "X", "[train] weight_decay: AdamW decoupled weight decay [1e-2]"},
    {"seed", "N", "[train] seed: head initialisation, synthesis, sampling, augmentation [66]"},
    {"k", "N", "[train] k: a query's reference is one of its image's k nearest (GRB) training images [10]"},
    {"points", "N", "[train] points: positive / far-negative / anomaly points per pair [300]"},
    {"augment", "BOOL", "[train] augment: salt-and-pepper + HLS lightness, p 0.3 each (true | false) [true]"},
    {"synth_per_image", "N", "[train] synth_per_image: pseudo-anomalies generated per training image [6]"},
    {"checkpoint_every", "N", "[train] checkpoint_every: checkpoint every N steps, 0 = never [500]"},
    {"synth", "MODE", "[train] synth: perlin | cutpaste | both (cutpaste / both need defects) [perlin]"},
    {"synth_size", "N", "[train] synth_size: side of the square synthesis image [640]"},
    {"anomaly_ratio", "X", "[train] anomaly_ratio: probability that a perlin sample gets a defect [0.9]"},
    {"textures", "DIR", "[train] textures: folder of texture images (e.g. DTD) filling perlin defects"},
    {"defects", "DIR", "[train] defects: defect-library folder (one sub-folder of RGBA patches per kind)"},
    {"defect_scales", "LIST", "[train] defect_scales: per sub-folder scale range, e.g. hair:0.05-0.2,*:0.1-1"},
};

}  // namespace

int train_cpr_main(int argc, char** argv) {
  TrainCli cli("Train the CPR local-retrieval heads for the category <profile.ini> describes, on its defect-free\n"
                 "images and pseudo-anomalies made from them, and write a model package (weights.pth with the\n"
                 "trunk and the trained heads, bank.bin, profile.ini) to the profile's model path or --out.\n"
                 "Recipe (official CPR train.py): DenseNet201 trunk frozen (eval mode, no gradient); the two LRB\n"
                 "heads trained with the contrastive loss (positives: normal pixel pairs at the same place in the\n"
                 "query and a retrieved reference, pulled above cosine 0.8; negatives: far-apart pairs re-weighted\n"
                 "by backbone-feature distance (objects only) and the synthetic defect pixels, pushed below -0.2;\n"
                 "cubed hinge, summed over both scales); AdamW, constant learning rate. The query is a synthetic\n"
                 "sample, the reference one of its image's k nearest training images (GRB). With [cpr] foreground\n"
                 "= on, the FEB is fitted first and positives are sampled by foreground weight. Settings come from\n"
                 "the profile's [train] group; each flag below (or --set KEY=VALUE) overrides one key.",
               "the category profile (method = cpr)", kCprKeyFlags, cpr::cpr_train_keys(),
               "head weights and BN statistics, AdamW state, step and seed",
               "auto | cpu | cuda | cuda:N: where the network runs");
  if (!cli.parse(argc, argv)) return 0;

  const Profile profile = load_profile(cli.profile(), /*check_model_file=*/false);
  const cpr::CprTrainSettings settings = cpr::parse_cpr_train_settings(profile, cli.overrides());
  configure_runtime(cli.run().threads);

  train::RunOptions o;
  cli.run().apply_to(o);
  TrainProgress progress;
  progress.attach(o);

  std::cout << "advad train: " << profile.path << "\n  data " << settings.data << "\n  backbone "
            << settings.backbone_weights << (settings.init.empty() ? "" : "\n  init " + settings.init) << "\n";
  const cpr::CprTrainResult r = cpr::run_cpr_training(profile, settings, o);
  progress.finish();
  std::cout << "  " << r.images << " training images, " << r.synthetic << " synthetic samples (" << r.anomalous
            << " with a defect); steps " << r.start_step << " -> " << r.steps_done << " of " << r.total_steps;
  if (r.seconds_per_step > 0) std::cout << " (" << fmt_number(r.seconds_per_step, 3) << " s/step)";
  std::cout << "\n";
  if (!r.foreground_note.empty())
    std::cerr << "advad train: warning: [cpr] foreground = on but " << r.foreground_note
              << "; positives were sampled uniformly and the map is not foreground-weighted\n";
  return print_train_end(r);
}

}  // namespace advad::tools
