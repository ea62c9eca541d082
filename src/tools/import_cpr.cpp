// advad import cpr: an official CPR checkpoint (weights/<category>.pth as the
// authors publish it: OrderedDict, possibly cuda-tagged, with or without the
// backbone keys) + the category's training images -> an advad CPR package
// (profile.ini + weights.pth + bank.bin), written by cpr::write_cpr_package.
//
// The GRB codebook and the foreground branch (FEB) come from the official
// grb.pth / feb.pth when given (--grb / --feb: pickled modules, read as data),
// so the maps are the official ones; otherwise they are refitted from the
// training images (k-means codebook; 2-means priors + LDA, cpr/bank/feb_fit.h),
// which gives close but different maps. The bank holds every training image's
// normalised head features.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "core/error.h"
#include "core/model.h"
#include "core/profile.h"
#include "cpr/bank/official_branches.h"
#include "cpr/bank/package.h"
#include "cpr/model/settings.h"
#include "cpr/model/weights.h"
#include "engine/model_factory.h"
#include "io/state_dict.h"
#include "tools/cli.h"
#include "tools/subcommands.h"

namespace fs = std::filesystem;

namespace advad::tools {

int import_cpr_main(int argc, char** argv) {
  cli::Args args("import cpr",
                 "Turn an official CPR checkpoint (weights/<category>.pth: torch.save(model.state_dict()),\n"
                 "cuda- or cpu-tagged) and the category's training images into an advad CPR package:\n"
                 "<out>/weights.pth (official key layout, 306 entries), <out>/bank.bin (normalised head\n"
                 "features of every training image, GRB codebook + histograms) and <out>/profile.ini.\n"
                 "GRB and foreground branch: --grb / --feb take the official release's fitted branches as they\n"
                 "are (the pickled modules tools/generate_retrieval.py and tools/generate_foreground.py write:\n"
                 "log/retrieval_*/<category>/grb.pth, log/foreground_*/<category>/feb.pth), which gives the\n"
                 "official maps. Without them they are refitted here and the maps differ a little: the codebook\n"
                 "by OpenCV k-means++ (12 words, 50k sampled denseblock1 vectors), and with --foreground on the\n"
                 "FEB by 2-means border/centre priors + LDA (robust 1% min-max); when no centred foreground is\n"
                 "found the map is weighted by 1 (texture mode) with a warning. The output says which was done.\n"
                 "Bank memory grows linearly: ~12.3 MB per training image in fp32 (6.1 MB in fp16).");
  args.positional("weights.pth", "the official CPR checkpoint")
      .option("train", "DIR", "folder of defect-free training images (searched recursively, sorted by path)")
      .option("out", "DIR", "package folder to write (created if missing)")
      .option("profile", "INI", "base profile to copy into the package (e.g. models/mvtec_ad2/vial.ini); "
                                "its [input], [tiling], [threshold], [postproc] and [cpr] are kept", "")
      .option("backbone", "PTH", "torchvision densenet201-*.pth, needed only when the checkpoint has no backbone "
                                 "keys (backbone.feature_extractor.backbone.features.*)", "")
      .option("category", "NAME", "category name written into the profile (default: the --out folder name)", "")
      .option("size", "N", "network input side (official 320)", "320")
      .option("k", "N", "training images retrieved per query, written to [cpr] k (default 10 or the base profile's)")
      .option("grb", "PTH", "the official grb.pth of this category (GRB codebook used as it is; default: refit)", "")
      .option("feb", "PTH", "the official feb.pth of this category (foreground branch used as it is, implies "
                            "--foreground on; default: fit when --foreground on)", "")
      .option("foreground", "on|off", "foreground weighting for object categories (on: the FEB from --feb, else "
                                      "fitted from the training images), written to [cpr] foreground")
      .option("bank-dtype", "fp32|fp16", "dtype the feature bank is stored in", "fp32")
      .option("device", "DEV", "auto | cpu | cuda | cuda:N: where the features are computed", "auto")
      .option("batch", "N", "images per network pass", "4")
      .option("threads", "N", "intra-op CPU threads (0 = all cores)", "0")
      .flag("no-verify", "do not load the written package back to check it")
      .quiet_flag();
  if (!args.parse(argc, argv)) return 0;
  if (args.positionals().size() != 1) throw cli::UsageError("advad import cpr: give exactly one weights.pth (see --help)");
  if (!args.has("train")) throw cli::UsageError("advad import cpr: --train DIR is required (the training images)");
  if (!args.has("out")) throw cli::UsageError("advad import cpr: --out DIR is required");
  const std::string src = args.positionals()[0], out = args.str("out");
  const int size = args.integer("size"), batch = args.integer("batch");
  if (size < 32 || size % 8) throw cli::UsageError("advad import cpr: --size must be a multiple of 8, at least 32");
  if (batch < 1) throw cli::UsageError("advad import cpr: --batch must be >= 1");
  torch::ScalarType store = torch::kFloat;
  if (args.str("bank-dtype") == "fp16") store = torch::kHalf;
  else if (args.str("bank-dtype") != "fp32") throw cli::UsageError("advad import cpr: --bank-dtype must be fp32 or fp16");
  configure_runtime(args.integer("threads"));

  // Profile: the base one (if any) with the package's own fields.
  Profile p;
  if (!args.str("profile").empty()) p = load_profile(args.str("profile"), /*check_model_file=*/false);
  p.method = "cpr";
  p.category = !args.str("category").empty() ? args.str("category")
               : !p.category.empty()         ? p.category
                                             : fs::path(out).filename().string();
  p.input.width = p.input.height = size;
  p.input.crop = 0;
  p.input.resize = ResizeFilter::Linear;
  cpr::CprSettings settings = cpr::parse_cpr_settings(p);
  if (args.has("k")) settings.k = args.integer("k");
  if (settings.k < 1) throw cli::UsageError("advad import cpr: --k must be >= 1");
  if (args.has("foreground")) {
    const auto v = args.str("foreground");
    if (v != "on" && v != "off") throw cli::UsageError("advad import cpr: --foreground must be on or off");
    settings.foreground = v == "on";
  }
  if (!args.str("backbone").empty()) settings.backbone_weights = fs::absolute(args.str("backbone")).string();
  if (!args.str("feb").empty()) {
    if (args.has("foreground") && !settings.foreground)
      throw cli::UsageError("advad import cpr: --feb is the foreground branch; it cannot go with --foreground off");
    settings.foreground = true;
  }

  // The official branches first: a wrong file fails before any network work.
  cpr::PackageBuildOptions bo;
  if (!args.str("grb").empty()) {
    const auto grb = cpr::load_official_grb(args.str("grb"));
    bo.codebook = grb.codebook;
    bo.grb_refs = grb.refs;
    std::cout << "GRB codebook: read from " << args.str("grb") << " (" << grb.codebook.size(0) << " words; made from "
              << grb.refs.size(0) << " training images)\n";
  }
  if (!args.str("feb").empty()) {
    const auto feb = cpr::load_official_feb(args.str("feb"));
    bo.feb_weight = feb.weight;
    bo.feb_bias = feb.bias;
    std::cout << "foreground branch: read from " << args.str("feb") << "\n";
  }

  // Network.
  const torch::Device device = resolve_device(args.str("device"));
  const StateDict sd = load_state_dict(src);
  cpr::CprNetwork net(cpr::checkpoint_head_dim(sd));
  const auto info = cpr::load_cpr_weights(*net, sd, settings.backbone_weights);
  net->to(device);
  std::cout << "weights: heads from " << info.checkpoint << ", backbone from " << info.backbone_source << "\n";

  // Training images -> features -> codebook (+ FEB) -> package.
  bo.size = size;
  bo.batch = batch;
  bo.device = device;
  bo.bank_dtype = store;
  std::map<std::string, std::unique_ptr<cli::Progress>> bars;
  bo.progress = [&](const std::string& stage, int64_t done, int64_t total) {
    if (stage == "codebook" || stage == "foreground") {
      if (done == 0)
        std::cout << (stage == "codebook"
                          ? "GRB codebook: refitting here (k-means, 12 words; --grb takes the official grb.pth) ...\n"
                          : "foreground branch: fitting here (2-means priors + LDA; --feb takes the official "
                            "feb.pth) ...\n")
                  << std::flush;
      return;
    }
    auto& bar = bars[stage];
    if (!bar) bar = std::make_unique<cli::Progress>(stage, static_cast<long>(total));
    if (done >= total) bar->finish();
    else bar->update(static_cast<long>(done));
  };
  const auto res = cpr::write_cpr_package(*net, args.str("train"), p, settings, bo, out);
  const std::string ini = res.profile_path;
  if (res.codebook_given) {
    if (res.grb_refs_max_diff < 0)
      std::cerr << "advad import cpr: warning: " << args.str("grb") << " was made from " << bo.grb_refs.size(0)
                << " training images, --train has " << res.images
                << "; its codebook is used, the histograms are computed from --train\n";
    else if (res.grb_refs_max_diff > 1e-4)
      std::cerr << "advad import cpr: warning: the training images' GRB histograms differ from " << args.str("grb")
                << "'s by up to " << res.grb_refs_max_diff
                << " (other images, another order, or other backbone weights?); its codebook is used\n";
    else
      std::cout << "  GRB histograms of the training images match " << args.str("grb") << "'s (max diff "
                << res.grb_refs_max_diff << ")\n";
  }
  if (settings.foreground && !res.feb_given) {
    if (res.feb.found)
      std::cout << "  foreground: fitted on " << res.feb.background_samples << " background + "
                << res.feb.foreground_samples << " foreground samples, decision range " << res.feb.decision_min
                << " .. " << res.feb.decision_max << "\n";
    else
      std::cerr << "advad import cpr: warning: no foreground found: map weighted by 1 (" << res.feb.reason << ")\n";
  }
  std::cout << "wrote " << ini << ", " << res.weights_path << " and " << res.bank_path << "\n"
            << "  bank: " << res.images << " images, " << res.bank_bytes / 1e6 << " MB on disk ("
            << res.bank_bytes_per_image / 1e6 << " MB per image, " << args.str("bank-dtype") << ")\n";
  if (!args.on("no-verify")) {
    ModelOptions mo;
    mo.device = "cpu";
    auto model = create_model(load_profile(ini), mo);
    std::cout << "  verified: " << model->describe() << "\n";
  }
  return 0;
}

}  // namespace advad::tools
