// advad bench frame: where one full frame's time goes — crop/resize into the
// batch (make_batch), the transfers to and from a CUDA device, the model,
// stitching and post-processing — with the real core APIs and an INP-Former
// package of random weights, tiled by a grid, a pyramid (--levels) or a
// profile's [tiling] (--profile, e.g. the seed's models/mvtec_ad2/can.ini).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>  // getpid (LibTorch 1.13 headers included it, 2.x do not)
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>
#ifdef ADVAD_WITH_CUDA
#include <torch/cuda.h>
#endif

#include "core/error.h"
#include "core/model.h"
#include "core/postproc.h"
#include "core/postproc_tensor.h"
#include "core/tensor_frame.h"
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

// Waits for the work queued on a CUDA device, so that the clock reads finished work; no-op on the CPU.
void sync([[maybe_unused]] const torch::Device& device) {
#ifdef ADVAD_WITH_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? -1 : device.index());
#endif
}
}  // namespace

int bench_frame_main(int argc, char** argv) {
  cli::Args args("bench frame",
                 "Split of one full frame's time between crop/resize (make_batch), the model (INP-Former,\n"
                 "random weights, seed map path, all tiles in one batch), stitching and post-processing\n"
                 "(threshold, closing, hole filling, regions), on a synthetic textured frame.\n"
                 "Tiles: --grid, a pyramid (--levels) or a profile (--profile: its [tiling], [input],\n"
                 "threshold and [postproc]; the model stays the random INP-Former of --encoder).\n"
                 "With a CUDA --device, crop/resize stays on the CPU and two rows are added: the float32\n"
                 "batch's copy to the device and the tile maps' copy back; stitching runs on the CPU\n"
                 "(advadinfer uploads uint8 tiles and stitches on the device). The device is synchronised\n"
                 "before every clock reading.\n"
                 "--path tensor times the device-tensor path advadinfer takes on a GPU (the frame uploaded\n"
                 "once, crop/resize/normalise, stitching as tensor ops on --device, the frame map downloaded\n"
                 "once, blur/threshold/closing on --device with the mask coming down only for frames with\n"
                 "a candidate region); --path both runs the two and prints tensor/opencv per stage.");
  args.option("frame", "WxH", "frame size (MVTec AD 2: 2448x2048)", "2448x2048")
      .option("grid", "CxR", "tiling grid, one level (with --profile: only when given)", "2x2")
      .option("levels", "L",
              "tile pyramid instead of --grid, as a profile's [tiling] levels: COLSxROWS grids separated by ';', "
              "e.g. '1x1;2x2'")
      .option("profile", "INI",
              "take [tiling] (levels, overlap, merge, blend), [input], the default threshold and [postproc] from "
              "this profile, e.g. models/mvtec_ad2/can.ini (its model is not loaded)")
      .option("encoder", "NAME", "vit_small | vit_base | vit_large", "vit_small")
      .option("size", "N", "model input side (multiple of 14; crop 0; with --profile: only when given)", "448")
      .option("iters", "N", "timed frames (after one warm-up frame)", "2")
      .option("threshold", "T", "post-processing threshold (with --profile: only when given)", "0.3")
      .option("close", "K",
              "closing kernel side, hole filling when > 0 (0 = off; with --profile: only when given)", "10")
      .option("device", "DEV", "cpu | cuda | cuda:N | auto (auto = cuda:0 when LibTorch sees a GPU, else cpu)",
              "cpu")
      .option("threads", "N", "intra-op threads (0 = all cores)", "0")
      .option("precision", "LIST",
              "comma-separated: auto, fp32, bf16, int8 (one table per precision; speed-up against the first)",
              "auto")
      .option("path", "P", "opencv | tensor | both: the frame path (see above)", "opencv")
      .option("json", "FILE", "also write the rows (with units) as one JSON object to FILE ('-' = stdout)");
  if (!args.parse(argc, argv)) return 0;
  torch::Device device(torch::kCPU);
  try {
    device = resolve_device(args.str("device"));
  } catch (const ModelError& e) {
    throw cli::UsageError("advad bench frame: --device: " + std::string(e.what()));
  }
  const std::string path_arg = args.str("path");
  if (path_arg != "opencv" && path_arg != "tensor" && path_arg != "both")
    throw cli::UsageError("advad bench frame: --path must be opencv, tensor or both, got '" + path_arg + "'");
  std::vector<bool> tensor_paths;
  if (path_arg != "tensor") tensor_paths.push_back(false);
  if (path_arg != "opencv") tensor_paths.push_back(true);
  std::vector<std::string> precisions;
  {
    std::stringstream ss(args.str("precision"));
    for (std::string t; std::getline(ss, t, ',');)
      if (!t.empty()) precisions.push_back(t);
  }
  if (precisions.empty()) throw cli::UsageError("advad bench frame: --precision needs at least one value");
  int fw = 0, fh = 0;
  char x1 = 0;
  std::stringstream(args.str("frame")) >> fw >> x1 >> fh;
  if (x1 != 'x' || fw < 32 || fh < 32) throw cli::UsageError("advad bench frame: --frame must be WxH, at least 32x32");
  if (args.has("grid") && args.has("levels"))
    throw cli::UsageError("advad bench frame: give --grid or --levels, not both");

  // The profile of the random-weight package: the tiling, input and post-processing of
  // --profile when given, else the options' (and the profile defaults for the rest).
  Profile p;
  std::string tiling_from = "--grid";
  if (args.has("profile")) {
    const Profile src = load_profile(args.str("profile"), /*check_model_file=*/false);  // ProfileError naming it
    p.input = src.input;
    p.tiling = src.tiling;
    p.threshold = src.threshold;
    p.post = src.post;
    tiling_from = args.str("profile");
  }
  if (args.has("levels")) {
    try {
      p.tiling.levels = parse_levels(args.str("levels"));
    } catch (const ProfileError& e) {
      throw cli::UsageError("advad bench frame: --levels '" + args.str("levels") + "': " + e.what());
    }
    tiling_from = "--levels";
  } else if (args.has("grid") || !args.has("profile")) {
    int gc = 0, gr = 0;
    char x2 = 0;
    std::stringstream(args.str("grid")) >> gc >> x2 >> gr;
    if (x2 != 'x' || gc < 1 || gr < 1) throw cli::UsageError("advad bench frame: --grid must be CxR");
    p.tiling.levels = {GridLevel{gc, gr}};
    tiling_from = "--grid";
  }
  if (args.has("size") || !args.has("profile")) {
    p.input.width = p.input.height = args.integer("size");
    p.input.crop = 0;
  }
  if (args.has("threshold") || !args.has("profile")) p.threshold = args.number("threshold");
  if (args.has("close") || !args.has("profile")) {
    const int close = args.integer("close");
    if (close < 0) throw cli::UsageError("advad bench frame: --close must be >= 0");
    p.post.close_w = p.post.close_h = close;
    p.post.fill_holes = close > 0;
  }
  const int size = p.input.crop > 0 ? p.input.crop : p.input.width;
  if (p.input.crop == 0 && p.input.height != p.input.width)
    throw cli::UsageError("advad bench frame: the profile's [input] is " + std::to_string(p.input.width) + "x" +
                          std::to_string(p.input.height) + "; the random INP-Former needs a square input: give --size");
  if (size < 14 || size % 14)
    throw cli::UsageError("advad bench frame: the model input side (--size" +
                          std::string(args.has("profile") ? " or the profile's [input]" : "") +
                          ") must be a multiple of 14, got " + std::to_string(size));
  const int iters = args.integer("iters");
  if (iters < 1) throw cli::UsageError("advad bench frame: --iters must be >= 1");
  const TileLayout layout = make_tile_layout(fw, fh, p.tiling);  // InputError on impossible sizes
  configure_runtime(args.integer("threads"));

  // A package with random weights, written to a temporary folder and loaded like any other.
  inpformer::InpFormerConfig cfg = inpformer::preset_config(args.str("encoder"));
  cfg.depth = cfg.run_depth();
  torch::manual_seed(0);
  inpformer::InpFormerNet net(cfg);
  fs::path dir = fs::temp_directory_path() / ("advad_bench_frame_" + std::to_string(::getpid()));
  p.category = "bench-frame";  // profiles must name their category (strict values)
  p.method = "inpformer";
  inpformer::MapSettings map;
  map.path = inpformer::MapPath::Seed;
  std::string ini = inpformer::save_package(dir.string(), net, p, map);
  const Profile profile = load_profile(ini);
  std::vector<std::unique_ptr<Model>> models;
  std::vector<std::string> names;
  for (const auto& prec : precisions) {
    ModelOptions mo;
    mo.device = device.str();
    mo.precision = prec;
    names.push_back(resolve_model_precision(profile, mo).str());
    models.push_back(create_model(profile, mo));
  }
  fs::remove_all(dir);

  cv::Mat frame(fh, fw, CV_8UC3);
  cv::randu(frame, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(frame, frame, cv::Size(0, 0), 3);
  std::vector<cv::Size> sizes;
  for (const auto& t : layout.tiles) sizes.push_back(t.rect.size());
  const bool on_cpu = device.is_cpu();
  const std::string levels = to_string(p.tiling.levels);

  nlohmann::json out;
  out["frame"] = {{"width", fw}, {"height", fh}};
  out["tiling"] = {{"levels", levels},
                   {"overlap", p.tiling.overlap},
                   {"merge", to_string(p.tiling.merge)},
                   {"blend", to_string(p.tiling.blend)},
                   {"from", tiling_from}};
  out["levels"] = nlohmann::json::array();
  for (size_t l = 0; l < p.tiling.levels.size(); ++l) {
    const GridLevel& g = p.tiling.levels[l];
    size_t n = 0;
    for (const auto& t : layout.tiles)
      if (t.level == static_cast<int>(l)) ++n;
    out["levels"].push_back(
        {{"level", l}, {"grid", std::to_string(g.cols) + "x" + std::to_string(g.rows)}, {"tiles", n}});
  }
  out["tile_rects"] = nlohmann::json::array();
  for (const auto& t : layout.tiles)
    out["tile_rects"].push_back({{"level", t.level},
                                 {"col", t.col},
                                 {"row", t.row},
                                 {"x", t.rect.x},
                                 {"y", t.rect.y},
                                 {"width", t.rect.width},
                                 {"height", t.rect.height}});
  out["tiles"] = layout.tiles.size();
  out["encoder"] = args.str("encoder");
  out["size"] = size;
  out["input"] = {{"width", p.input.width}, {"height", p.input.height}, {"crop", p.input.crop},
                  {"resize", to_string(p.input.resize)}};
  out["postproc"] = {{"threshold", p.threshold},
                     {"close", std::to_string(p.post.close_w) + "x" + std::to_string(p.post.close_h)},
                     {"fill_holes", p.post.fill_holes}};
  out["device"] = device.str();
  out["threads"] = torch::get_num_threads();
  out["frames"] = iters;
  out["units"] = {{"ms_per_frame", "ms"}, {"share", "fraction of the precision's total"},
                  {"speedup", "x vs the first precision (same stage)"}};
  if (!on_cpu) {
    out["units"]["bytes_to_device"] = "bytes per frame";
    out["units"]["bytes_from_device"] = "bytes per frame";
  }
  out["rows"] = nlohmann::json::array();
  if (args.has("profile"))
    std::printf("tiling, input and post-processing from %s; the model is a random %s INP-Former\n",
                args.str("profile").c_str(), args.str("encoder").c_str());
  std::printf("frame %dx%d, levels %s (%zu tiles), overlap %g, merge %s, %s at %d, device %s, %d threads, "
              "%d frame(s)\n",
              fw, fh, levels.c_str(), layout.tiles.size(), p.tiling.overlap, to_string(p.tiling.merge).c_str(),
              args.str("encoder").c_str(), size, device.str().c_str(), torch::get_num_threads(), iters);
  out["path"] = path_arg;
  if (std::find(tensor_paths.begin(), tensor_paths.end(), true) != tensor_paths.end()) {
    out["units"]["bytes_to_device"] = "bytes per frame";
    out["units"]["bytes_from_device"] = "bytes per frame";
  }
  std::vector<double> first;
  TensorFrameBatcher batcher(device);
  for (size_t k = 0; k < models.size(); ++k) {
    Model& model = *models[k];
    std::vector<double> opencv_total;
    for (const bool tensor : tensor_paths) {
      std::vector<const char*> stages;
      if (tensor)
        stages = {"upload (frame)",        "crop/resize (tensor)", "model (forward + maps)", "stitch + download",
                  "post-processing (device)", "total"};
      else if (on_cpu)
        stages = {"crop/resize (make_batch)", "model (forward + maps)", "stitch", "post-processing", "total"};
      else
        stages = {"crop/resize (make_batch)", "transfer to device", "model (forward + maps)", "transfer from device",
                  "stitch",                   "post-processing",    "total"};
      std::vector<double> ts(stages.size(), 0.0);  // seconds per stage over the timed frames; last = total
      double bytes_in = 0, bytes_out = 0, bytes_post = 0;
      for (int it = 0; it <= iters; ++it) {
        std::vector<double> t{now_s()};
        ScoredBatch sb;
        AnomalyMap am;
        if (tensor) {
          const torch::Tensor pixels = batcher.upload(frame, PixelFormat::RGB);
          sync(device);
          t.push_back(now_s());
          const torch::Tensor batch = batcher.make_batch(pixels, PixelFormat::RGB, layout, p.input);
          sync(device);
          t.push_back(now_s());
          sb = model.score(batch, sizes);
          sync(device);
          t.push_back(now_s());
          am = stitch_torch(sb.maps, sb.scores, layout);  // on --device; the map stays there
          sync(device);
          t.push_back(now_s());
          bytes_in = on_cpu ? 0.0 : static_cast<double>(frame.total() * frame.elemSize());
          bytes_out = 0;  // post-processing's downloads are bytes_post; the float map comes down only when read
        } else {
          auto batch = make_batch(frame, layout, p.input, torch::kCPU);  // the CPU's work in advadinfer too
          t.push_back(now_s());
          if (!on_cpu) {
            bytes_in = static_cast<double>(batch.numel() * batch.element_size());
            batch = batch.to(device);
            sync(device);
            t.push_back(now_s());
          }
          sb = model.score(batch, sizes);
          sync(device);
          t.push_back(now_s());
          if (!on_cpu) {
            bytes_out = 0;
            for (auto& m : sb.maps) {
              m = m.to(torch::kCPU);
              bytes_out += static_cast<double>(m.numel() * m.element_size());
            }
            t.push_back(now_s());
          }
          am = stitch(sb.maps, sb.scores, layout);
          t.push_back(now_s());
        }
        PostprocTransfers post_tr;
        // The tensor path's map carries its device copy: post-processing runs there.
        Detection d = tensor ? postprocess(am, p.threshold, p.post, frame, &post_tr)
                             : postprocess(am.map, am.score, p.threshold, p.post, frame);
        sync(device);
        t.push_back(now_s());
        if (!on_cpu && tensor) bytes_post = post_tr.bytes_down + post_tr.scalar_bytes;
        (void)d;
        if (it == 0) continue;  // warm-up
        for (size_t i = 0; i + 1 < t.size(); ++i) ts[i] += t[i + 1] - t[i];
      }
      double total = 0;
      for (size_t i = 0; i + 1 < ts.size(); ++i) total += ts[i];
      ts.back() = total;
      if (first.empty()) first = ts;
      const bool comparable = first.size() == ts.size();
      std::printf("\nprecision %s, path %s\n%-28s %10s %7s %9s\n", names[k].c_str(), tensor ? "tensor" : "opencv",
                  "stage", "ms/frame", "share", "speed-up");
      for (size_t i = 0; i < ts.size(); ++i) {
        const double speedup = comparable && ts[i] > 0 ? first[i] / ts[i] : 0.0;
        std::printf("%-28s %10.1f %6.1f%% %8.2fx\n", stages[i], ts[i] / iters * 1e3, 100.0 * ts[i] / total, speedup);
        nlohmann::json row = {{"precision", precisions[k]},
                              {"resolved", names[k]},
                              {"device", device.str()},
                              {"path", tensor ? "tensor" : "opencv"},
                              {"stage", stages[i]},
                              {"ms_per_frame", ts[i] / iters * 1e3},
                              {"share", ts[i] / total},
                              {"speedup", speedup}};
        if (!on_cpu && !tensor && i == 1) row["bytes_to_device"] = bytes_in;
        if (!on_cpu && !tensor && i == 3) row["bytes_from_device"] = bytes_out;
        if (!on_cpu && tensor && i == 0) row["bytes_to_device"] = bytes_in;
        if (!on_cpu && tensor && i == 3) row["bytes_from_device"] = bytes_out;
        if (!on_cpu && tensor && i == 4) row["bytes_from_device"] = bytes_post;
        out["rows"].push_back(row);
      }
      if (!on_cpu && !tensor)
        std::printf("transfers per frame: %.1f MB to the device (float32 batch), %.1f MB back (tile maps)\n",
                    bytes_in / 1e6, bytes_out / 1e6);
      if (!on_cpu && tensor)
        std::printf("transfers per frame: %.1f MB to the device (uint8 frame), %.1f MB back (float32 frame map), "
                    "%.1f MB back for post-processing (last frame: uint8 mask + blurred map when a region is left)\n",
                    bytes_in / 1e6, bytes_out / 1e6, bytes_post / 1e6);
      if (!tensor) opencv_total = {ts.back(), ts[ts.size() - 2]};  // total, post-processing
      if (tensor && !opencv_total.empty()) {
        const double ratio = ts.back() / opencv_total[0];
        std::printf("tensor / opencv total time: %.2f (precision %s, %s)\n", ratio, names[k].c_str(),
                    device.str().c_str());
        const double post_ratio = opencv_total[1] > 0 ? ts[ts.size() - 2] / opencv_total[1] : 0.0;
        std::printf("tensor / opencv post-processing time: %.2f (device blur/threshold/closing vs OpenCV)\n",
                    post_ratio);
        out["tensor_over_opencv"].push_back(
            {{"precision", precisions[k]}, {"device", device.str()}, {"ratio", ratio}, {"postproc_ratio", post_ratio}});
      }
      std::fflush(stdout);
    }
  }
  if (args.has("json")) write_json_output(args.str("json"), out);
  return 0;
}

}  // namespace advad::tools
