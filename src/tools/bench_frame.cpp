// advad bench frame: where one full frame's time goes — crop/resize into the
// batch (make_batch), the model, stitching and post-processing — with the real
// core APIs and an INP-Former package of random weights.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "core/model.h"
#include "core/postproc.h"
#include "core/tile_layout.h"
#include "engine/model_factory.h"
#include "inpformer/inpformer_package.h"
#include "tools/cli.h"
#include "tools/json_out.h"
#include "tools/subcommands.h"

namespace fs = std::filesystem;

namespace advad::tools {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int bench_frame_main(int argc, char** argv) {
  cli::Args args("bench frame",
                 "Split of one full frame's time between crop/resize (make_batch), the model (INP-Former,\n"
                 "random weights, seed map path), stitching and post-processing (threshold, closing, hole\n"
                 "filling, regions), on a synthetic textured frame.");
  args.option("frame", "WxH", "frame size (MVTec AD 2: 2448x2048)", "2448x2048")
      .option("grid", "CxR", "tiling grid", "2x2")
      .option("encoder", "NAME", "vit_small | vit_base | vit_large", "vit_small")
      .option("size", "N", "model input side (multiple of 14; crop 0)", "448")
      .option("iters", "N", "timed frames (after one warm-up frame)", "2")
      .option("threshold", "T", "post-processing threshold", "0.3")
      .option("close", "K", "closing kernel side (0 = off)", "10")
      .option("threads", "N", "intra-op threads (0 = all cores)", "0")
      .option("precision", "LIST",
              "comma-separated: auto, fp32, bf16, int8 (one table per precision; speed-up against the first)",
              "auto")
      .option("json", "FILE", "also write the rows (with units) as one JSON object to FILE ('-' = stdout)");
  if (!args.parse(argc, argv)) return 0;
  std::vector<std::string> precisions;
  {
    std::stringstream ss(args.str("precision"));
    for (std::string t; std::getline(ss, t, ',');)
      if (!t.empty()) precisions.push_back(t);
  }
  if (precisions.empty()) throw cli::UsageError("advad bench frame: --precision needs at least one value");
  int fw = 0, fh = 0, gc = 0, gr = 0;
  char x1 = 0, x2 = 0;
  std::stringstream(args.str("frame")) >> fw >> x1 >> fh;
  std::stringstream(args.str("grid")) >> gc >> x2 >> gr;
  if (x1 != 'x' || fw < 32 || fh < 32) throw cli::UsageError("advad bench frame: --frame must be WxH, at least 32x32");
  if (x2 != 'x' || gc < 1 || gr < 1) throw cli::UsageError("advad bench frame: --grid must be CxR");
  const int size = args.integer("size"), iters = args.integer("iters"), close = args.integer("close");
  if (size < 14 || size % 14) throw cli::UsageError("advad bench frame: --size must be a multiple of 14");
  if (iters < 1) throw cli::UsageError("advad bench frame: --iters must be >= 1");
  configure_runtime(args.integer("threads"));

  // A package with random weights, written to a temporary folder and loaded like any other.
  inpformer::InpFormerConfig cfg = inpformer::preset_config(args.str("encoder"));
  cfg.depth = cfg.run_depth();
  torch::manual_seed(0);
  inpformer::InpFormerNet net(cfg);
  fs::path dir = fs::temp_directory_path() / ("advad_bench_frame_" + std::to_string(::getpid()));
  Profile p;
  p.category = "bench-frame";  // profiles must name their category (strict values)
  p.method = "inpformer";
  p.input.width = p.input.height = size;
  p.input.crop = 0;
  p.tiling.levels = {GridLevel{gc, gr}};
  p.threshold = args.number("threshold");
  p.post.close_w = p.post.close_h = close;
  p.post.fill_holes = close > 0;
  inpformer::MapSettings map;
  map.path = inpformer::MapPath::Seed;
  std::string ini = inpformer::save_package(dir.string(), net, p, map);
  const Profile profile = load_profile(ini);
  std::vector<std::unique_ptr<Model>> models;
  std::vector<std::string> names;
  for (const auto& prec : precisions) {
    ModelOptions mo;
    mo.device = "cpu";
    mo.precision = prec;
    names.push_back(resolve_model_precision(profile, mo).str());
    models.push_back(create_model(profile, mo));
  }
  fs::remove_all(dir);

  cv::Mat frame(fh, fw, CV_8UC3);
  cv::randu(frame, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(frame, frame, cv::Size(0, 0), 3);
  TileLayout layout = make_tile_layout(fw, fh, p.tiling);
  std::vector<cv::Size> sizes;
  for (const auto& t : layout.tiles) sizes.push_back(t.rect.size());

  nlohmann::json out;
  out["frame"] = {{"width", fw}, {"height", fh}};
  out["grid"] = {{"cols", gc}, {"rows", gr}};
  out["tiles"] = layout.tiles.size();
  out["encoder"] = args.str("encoder");
  out["size"] = size;
  out["threads"] = torch::get_num_threads();
  out["frames"] = iters;
  out["units"] = {{"ms_per_frame", "ms"}, {"share", "fraction of the precision's total"},
                  {"speedup", "x vs the first precision (same stage)"}};
  out["rows"] = nlohmann::json::array();
  std::printf("frame %dx%d, grid %dx%d (%zu tiles), %s at %d, %d threads, %d frame(s)\n", fw, fh, gc, gr,
              layout.tiles.size(), args.str("encoder").c_str(), size, torch::get_num_threads(), iters);
  std::vector<double> first;
  for (size_t k = 0; k < models.size(); ++k) {
    Model& model = *models[k];
    double t_batch = 0, t_model = 0, t_stitch = 0, t_post = 0;
    for (int it = 0; it <= iters; ++it) {
      double t0 = now_s();
      auto batch = make_batch(frame, layout, p.input, model.device());
      double t1 = now_s();
      ScoredBatch sb = model.score(batch, sizes);
      double t2 = now_s();
      AnomalyMap am = stitch(sb.maps, sb.scores, layout);
      double t3 = now_s();
      Detection d = postprocess(am.map, am.score, p.threshold, p.post, frame);
      double t4 = now_s();
      (void)d;
      if (it == 0) continue;  // warm-up
      t_batch += t1 - t0, t_model += t2 - t1, t_stitch += t3 - t2, t_post += t4 - t3;
    }
    const double total = t_batch + t_model + t_stitch + t_post;
    const std::vector<double> ts{t_batch, t_model, t_stitch, t_post, total};
    if (first.empty()) first = ts;
    std::printf("\nprecision %s\n%-28s %10s %7s %9s\n", names[k].c_str(), "stage", "ms/frame", "share", "speed-up");
    const char* stages[] = {"crop/resize (make_batch)", "model (forward + maps)", "stitch", "post-processing", "total"};
    for (size_t i = 0; i < ts.size(); ++i) {
      const double speedup = ts[i] > 0 ? first[i] / ts[i] : 0.0;
      std::printf("%-28s %10.1f %6.1f%% %8.2fx\n", stages[i], ts[i] / iters * 1e3, 100.0 * ts[i] / total, speedup);
      out["rows"].push_back({{"precision", precisions[k]},
                             {"resolved", names[k]},
                             {"stage", stages[i]},
                             {"ms_per_frame", ts[i] / iters * 1e3},
                             {"share", ts[i] / total},
                             {"speedup", speedup}});
    }
    std::fflush(stdout);
  }
  if (args.has("json")) write_json_output(args.str("json"), out);
  return 0;
}

}  // namespace advad::tools
