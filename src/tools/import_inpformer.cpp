// advad import inpformer: an official INP-Former model.pth (as the authors'
// scripts save it, cpu- or cuda-tagged) -> an advad model package
// (profile.ini + weights.pth) that the CLI and the GStreamer elements load.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "core/model.h"
#include "engine/model_factory.h"
#include "inpformer/inpformer_package.h"
#include "inpformer/inpformer_weights.h"
#include "io/state_dict.h"
#include "tools/cli.h"
#include "tools/subcommands.h"

namespace fs = std::filesystem;

namespace advad::tools {

namespace {
std::vector<GridLevel> parse_grid(const std::string& v) {
  std::vector<GridLevel> levels;
  std::stringstream ss(v);
  for (std::string tok; std::getline(ss, tok, ';');) {
    GridLevel g;
    char x = 0;
    std::stringstream ts(tok);
    if (!(ts >> g.cols >> x >> g.rows) || x != 'x' || g.cols < 1 || g.rows < 1 || !ts.eof())
      throw cli::UsageError("advad import inpformer: --tiling '" + v + "' is not COLSxROWS[;COLSxROWS...]");
    levels.push_back(g);
  }
  if (levels.empty()) throw cli::UsageError("advad import inpformer: --tiling is empty");
  return levels;
}
}  // namespace

int import_inpformer_main(int argc, char** argv) {
  cli::Args args("import inpformer",
                 "Turn an official INP-Former checkpoint (torch.save(model.state_dict()), as the authors'\n"
                 "scripts write it; cuda- or cpu-tagged) into an advad model package: <out>/weights.pth\n"
                 "(same keys, readable by Python) and <out>/profile.ini (input size, crop, map path and the\n"
                 "architecture in [inpformer]). The architecture (ViT-S/B/L, registers, INPs, decoder blocks)\n"
                 "is read from the weights' shapes; the flags only add what the weights cannot say.");
  args.positional("model.pth", "the official checkpoint")
      .option("out", "DIR", "package folder to write (created if missing)")
      .option("encoder", "NAME", "auto | vit_small | vit_base | vit_large | custom; anything but auto is checked "
                                 "against the weights", "auto")
      .option("size", "N", "model input side after resize (official 448)", "448")
      .option("crop", "N", "centre crop after resize: 392 (official evaluation) or 0 (no crop, the seed)", "392")
      .option("map-path", "P", "official | seed (default: official with a crop, seed without)")
      .option("taps", "LIST", "comma-separated encoder blocks to fuse (default: the official list for the encoder)")
      .option("category", "NAME", "category name written into the profile", "")
      .option("tiling", "GRID", "tiling of the written profile, COLSxROWS (';' for pyramid levels)", "1x1")
      .option("threshold", "T", "threshold of the written profile (score >= T is a defect)", "0.5")
      .flag("no-verify", "do not load the written package back to check it")
      .quiet_flag();
  if (!args.parse(argc, argv)) return 0;
  if (args.positionals().size() != 1)
    throw cli::UsageError("advad import inpformer: give exactly one model.pth (see --help)");
  if (!args.has("out")) throw cli::UsageError("advad import inpformer: --out DIR is required");
  const std::string src = args.positionals()[0], out = args.str("out");
  const int size = args.integer("size"), crop = args.integer("crop");
  if (size < 14 || size % 14) throw cli::UsageError("advad import inpformer: --size must be a positive multiple of 14");
  if (crop < 0 || crop > size || (crop > 0 && crop % 14))
    throw cli::UsageError("advad import inpformer: --crop must be 0 or a multiple of 14 not above --size");

  StateDict sd = load_state_dict(src);
  if (inpformer::weights_kind(sd) != inpformer::WeightsKind::InpFormer)
    throw ModelError(src + ": a DINOv2 encoder file, not a trained INP-Former model.pth; train with advad train");
  std::map<std::string, std::string> group;
  if (args.str("encoder") != "auto") group["encoder"] = args.str("encoder");
  if (args.has("map-path")) group["map_path"] = args.str("map-path");
  if (args.has("taps")) group["taps"] = args.str("taps");
  inpformer::InpFormerSpec spec;
  try {
    spec = inpformer::parse_inpformer_group(group, "advad import inpformer", crop, inpformer::infer_config(sd));
  } catch (const ProfileError& e) {
    throw cli::UsageError(e.what());
  }
  auto net = inpformer::make_inpformer_from_weights(sd, spec.cfg);

  Profile p;
  p.category = args.str("category").empty() ? fs::path(out).filename().string() : args.str("category");
  p.method = "inpformer";
  p.input.width = p.input.height = size;
  p.input.crop = crop;
  p.input.resize = ResizeFilter::PilBilinear;
  p.tiling.levels = parse_grid(args.str("tiling"));
  p.threshold = args.number("threshold");
  // The range a profile's [threshold] accepts: refused here, naming the flag, before anything is written.
  if (!(p.threshold >= -1e9 && p.threshold <= 1e9))
    throw cli::UsageError("advad import inpformer: --threshold " + args.str("threshold") + " is outside the profile's range [-1e9, 1e9]");
  std::string ini = inpformer::save_package(out, net, p, spec.map);
  std::cout << "wrote " << ini << " and " << (fs::path(out) / "weights.pth").string() << "\n"
            << "  " << net->cfg.describe() << ", input " << size << (crop ? " crop " + std::to_string(crop) : "")
            << ", " << (spec.map.path == inpformer::MapPath::Official ? "official" : "seed") << " map\n";
  if (!args.on("no-verify")) {
    ModelOptions mo;
    mo.device = "cpu";
    auto model = create_model(load_profile(ini), mo);
    std::cout << "  verified: " << model->describe() << "\n";
  }
  return 0;
}

}  // namespace advad::tools
