// advad train <profile.ini> for method = inpformer: the INP-Former trainer.
// Everything that computes is in src/inpformer/train_*; this file maps flags
// onto [train] keys, shows progress and reports.
#include <iostream>
#include <map>

#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "inpformer/train_loop.h"
#include "inpformer/train_settings.h"
#include "tools/cli.h"
#include "tools/train_cli.h"
#include "tools/subcommands.h"

namespace advad::tools {

namespace {

// Flags that override one [train] key each (flag = key with '-' for '_').
const std::vector<TrainKeyFlag> kInpFormerKeyFlags = {
    {"data", "DIR", "[train] data: category folder with train/good (MVTec AD 2 / AD), or a folder of images"},
    {"encoder_weights", "FILE",
     "[train] encoder_weights: DINOv2 dinov2_vit*14_reg4_pretrain.pth (or an INP-Former model.pth), or 'random'"},
    {"grids", "LIST", "[train] grids: tile grids COLSxROWS, e.g. 2x2,4x4 (training set = their tiles)"},
    {"full_image", "BOOL", "[train] full_image: also train on whole images (true | false) [true]"},
    {"batch", "N", "[train] batch: images per step [16]"},
    {"epochs", "N", "[train] epochs: passes over the tiles [10]"},
    {"iterations", "N", "[train] iterations: number of steps (overrides epochs)"},
    {"lr", "X", "[train] lr: peak learning rate [1e-3]"},
    {"lr_final", "X", "[train] lr_final: learning rate at the end of the cosine decay [1e-4]"},
    {"warmup", "N", "[train] warmup: linear warm-up steps from 0 [100]"},
    {"weight_decay", "X", "[train] weight_decay: StableAdamW decoupled weight decay [1e-4]"},
    {"clip", "X", "[train] clip: global gradient-norm limit [0.1]"},
    {"seed", "N", "[train] seed: initialisation, shuffling, augmentation [1]"},
    {"hflip", "BOOL", "[train] hflip: random horizontal flip, p = 0.5 [false]"},
    {"vflip", "BOOL", "[train] vflip: random vertical flip, p = 0.5 [false]"},
    {"lighting", "BOOL", "[train] lighting: the seed's random lighting change, p = 0.5 [false]"},
    {"checkpoint_every", "N", "[train] checkpoint_every: checkpoint every N steps, 0 = never [500]"},
    {"cache_mb", "MB", "[train] cache_mb: memory for resized tiles [4096]"},
};

}  // namespace

int train_inpformer_main(int argc, char** argv) {
  TrainCli cli("Train an INP-Former model for the category <profile.ini> describes, on its defect-free images,\n"
                 "and write a model package (weights.pth + profile.ini) to the profile's model path.\n"
                 "Recipe (official INP-Former): frozen DINOv2 encoder; INP extractor, bottleneck, decoder and INP\n"
                 "tokens trained with soft-mining cosine loss (gradient re-weighting, exponent 3) + 0.2 x INP\n"
                 "coherence loss; StableAdamW (betas 0.9/0.999, eps 1e-10, AMSGrad), linear warm-up then cosine\n"
                 "learning rate per step, gradient-norm clipping. Training set: the seed's tiles (every grid of\n"
                 "[train] grids, plus the whole image), each resized to the [input] size; seed augmentations on\n"
                 "request. Settings come from the profile's [train] group; each flag below (or --set KEY=VALUE)\n"
                 "overrides one key.\n"
                 "Architecture: the profile's [inpformer] group (with encoder_weights = random it must give\n"
                 "encoder = vit_small | vit_base | vit_large, or custom with embed_dim, depth, heads and taps).",
               "the category profile (method = inpformer)", kInpFormerKeyFlags, inpformer::train_keys(),
               "trainable weights, optimizer state, step, seed", "auto | cpu | cuda | cuda:N");
  if (!cli.parse(argc, argv)) return 0;

  const Profile profile = load_profile(cli.profile(), /*check_model_file=*/false);
  const inpformer::TrainSettings settings = inpformer::parse_train_settings(profile, cli.overrides());
  configure_runtime(cli.run().threads);

  train::RunOptions o;
  cli.run().apply_to(o);
  TrainProgress progress([](const train::StepReport& s) { return "lr " + fmt_number(s.value("lr"), 3); });
  progress.attach(o);

  std::cout << "advad train: " << profile.path << "\n  data " << settings.data << "\n  encoder "
            << settings.encoder_weights << "\n";
  const inpformer::TrainRunResult r = inpformer::run_inpformer_training(profile, settings, o);
  progress.finish();
  std::cout << "  model " << r.model << "\n  " << r.images << " images -> " << r.tiles << " tiles; steps "
            << r.start_step << " -> " << r.steps_done << " of " << r.total_steps << "\n";
  return print_train_end(r);
}

}  // namespace advad::tools
