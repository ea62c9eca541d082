// Commands that only pick the method-specific implementation.
#include <iostream>
#include <map>
#include <string>

#include "core/profile.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/subcommands.h"

namespace advad::tools {

int cmd_train(int argc, char** argv) {
  if (argc < 1 || std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") {
    std::cout << "usage: advad train <profile.ini> [options]\n\n"
                 "Train the category the profile describes on its defect-free images. The profile's\n"
                 "method picks the trainer; 'advad train <profile.ini> --help' lists that trainer's flags.\n";
    return argc < 1 ? 2 : 0;
  }
  // The trainer of each trainable method (a TorchScript module comes from the
  // user's own training code).
  static const std::map<std::string, int (*)(int, char**)> trainers = {{"inpformer", train_inpformer_main},
                                                                       {"cpr", train_cpr_main}};
  const Profile p = load_profile(argv[0], /*check_model_file=*/false);
  const auto trainer = trainers.find(p.method);
  if (trainer == trainers.end()) {
    std::string names;
    for (const auto& [name, fn] : trainers) names += (names.empty() ? "" : " and ") + name;
    throw cli::UsageError("advad train: profile " + std::string(argv[0]) + " has method=" + p.method + "; only " +
                          names + " can be trained");
  }
  return trainer->second(argc, argv);
}

int cmd_import(int argc, char** argv) {
  std::string what = argc > 0 ? argv[0] : "";
  if (what == "inpformer") return import_inpformer_main(argc - 1, argv + 1);
  if (what == "cpr") return import_cpr_main(argc - 1, argv + 1);
  std::cout << "usage: advad import {inpformer|cpr} [options]\n\n"
               "Turn official checkpoints into an advad model package (see 'advad import inpformer --help').\n";
  return (what == "--help" || what == "-h") ? 0 : 2;
}

int cmd_bench(int argc, char** argv) {
  std::string what = argc > 0 ? argv[0] : "";
  if (what == "eval") return bench_eval_main(argc - 1, argv + 1);
  if (what == "inpformer") return bench_inpformer_main(argc - 1, argv + 1);
  if (what == "cpr") return bench_cpr_main(argc - 1, argv + 1);
  if (what == "frame") return bench_frame_main(argc - 1, argv + 1);
  if (what == "live") return bench_live_main(argc - 1, argv + 1);
  std::cout << "usage: advad bench {inpformer|cpr|frame|eval|live} [options]\n\n"
               "  inpformer  per-tile forward time of ViT-S/B/L INP-Former at 392 and 448, GFLOP/s vs matmul\n"
               "  cpr        per-image time split and bank memory\n"
               "  frame      split of one full frame's time: crop/resize, model, stitch, post-processing\n"
               "  eval       time and peak memory of advad eval on a generated full-size object\n"
               "  live       advadinfer with a live source: scored and video rates, drops, latency vs delay\n";
  return (what == "--help" || what == "-h") ? 0 : 2;
}

}  // namespace advad::tools
