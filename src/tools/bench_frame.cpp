// advad bench frame: where one full frame's time goes — crop/resize into the
// batch (make_batch), the model, stitching and post-processing — with the real
// core APIs and an INP-Former package of random weights.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "core/model.h"
#include "core/postproc.h"
#include "core/tile_layout.h"
#include "inpformer/inpformer_package.h"
#include "tools/cli.h"
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
      .option("threads", "N", "intra-op threads (0 = all cores)", "0");
  if (!args.parse(argc, argv)) return 0;
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
  p.method = Method::InpFormer;
  p.input.width = p.input.height = size;
  p.input.crop = 0;
  p.tiling.levels = {GridLevel{gc, gr}};
  p.threshold = args.number("threshold");
  p.post.close_w = p.post.close_h = close;
  p.post.fill_holes = close > 0;
  inpformer::MapSettings map;
  map.path = inpformer::MapPath::Seed;
  std::string ini = inpformer::save_package(dir.string(), net, p, map);
  ModelOptions mo;
  mo.device = "cpu";
  auto model = create_model(load_profile(ini), mo);
  fs::remove_all(dir);

  cv::Mat frame(fh, fw, CV_8UC3);
  cv::randu(frame, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(frame, frame, cv::Size(0, 0), 3);
  TileLayout layout = make_tile_layout(fw, fh, p.tiling);
  std::vector<cv::Size> sizes;
  for (const auto& t : layout.tiles) sizes.push_back(t.rect.size());

  double t_batch = 0, t_model = 0, t_stitch = 0, t_post = 0;
  for (int it = 0; it <= iters; ++it) {
    double t0 = now_s();
    auto batch = make_batch(frame, layout, p.input, model->device());
    double t1 = now_s();
    ScoredBatch sb = model->score(batch, sizes);
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
  std::printf("frame %dx%d, grid %dx%d (%zu tiles), %s at %d, %d threads, %d frame(s)\n", fw, fh, gc, gr,
              layout.tiles.size(), args.str("encoder").c_str(), size, torch::get_num_threads(), iters);
  std::printf("%-28s %10s %7s\n", "stage", "ms/frame", "share");
  auto row = [&](const char* name, double t) {
    std::printf("%-28s %10.1f %6.1f%%\n", name, t / iters * 1e3, 100.0 * t / total);
  };
  row("crop/resize (make_batch)", t_batch);
  row("model (forward + maps)", t_model);
  row("stitch", t_stitch);
  row("post-processing", t_post);
  row("total", total);
  return 0;
}

}  // namespace advad::tools
