// advad bench inpformer: per-tile forward time of ViT-S/B/L-shaped INP-Former
// networks (random weights, the blocks that run only) on this machine's CPU or
// a CUDA device, their analytic GFLOP count and achieved GFLOP/s next to a
// plain matmul's on the same device.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <torch/torch.h>
#ifdef ADVAD_WITH_CUDA
#include <torch/cuda.h>
#endif

#include "core/error.h"
#include "core/model.h"
#include "inpformer/anomaly_map.h"
#include "inpformer/dense.h"
#include "inpformer/inpformer_net.h"
#include "tools/cli.h"
#include "tools/json_out.h"
#include "tools/subcommands.h"

namespace advad::tools {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');)
    if (!t.empty()) r.push_back(t);
  return r;
}

// Multiply-adds counted as 2 FLOPs; linear layers, convolution and attention matmuls.
double forward_flops(const inpformer::InpFormerConfig& c, int side) {
  const double g = side / c.patch_size, N = g * g, T = N + 1 + c.registers, D = c.embed_dim,
               E = c.hidden_dim(), M = c.n_inps;
  double f = 2 * N * D * 3 * c.patch_size * c.patch_size;                  // patch embedding
  f += c.run_depth() * (2 * T * D * (3 * D + D + 2 * E) + 4 * T * T * D);  // encoder blocks that run
  f += 2 * M * D * D * 2 + 2 * N * D * 2 * D + 4 * M * N * D + 4 * M * D * E;  // INP extractor
  f += 4 * N * D * E;                                                      // bottleneck
  f += c.n_decoder * (2 * N * D * D * 2 + 2 * M * D * 2 * D + 4 * N * M * D + 4 * N * D * E);  // decoder
  return f;
}

// Waits for the work queued on a CUDA device, so that the clock reads finished work; no-op on the CPU.
void sync([[maybe_unused]] const torch::Device& device) {
#ifdef ADVAD_WITH_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? -1 : device.index());
#endif
}

double matmul_gflops(int reps, const torch::Device& device) {
  auto a = torch::randn({4096, 1024}).to(device), b = torch::randn({1024, 4096}).to(device);
  torch::mm(a, b);  // warm-up
  sync(device);
  double t0 = now_s();
  for (int i = 0; i < reps; ++i) torch::mm(a, b);
  sync(device);
  return 2.0 * 4096 * 1024 * 4096 * reps / (now_s() - t0) / 1e9;
}

}  // namespace

int bench_inpformer_main(int argc, char** argv) {
  cli::Args args("bench inpformer",
                 "Per-tile forward time of INP-Former networks shaped like the official ViT-S/B/L-reg4\n"
                 "configurations (random weights; encoder blocks after the last tap are not built, as in\n"
                 "inference) on the CPU or a CUDA device (--device), per precision and batch size: network\n"
                 "forward plus the group maps and the seed map path. bf16 runs the weights and matmuls in\n"
                 "bf16, LayerNorm/softmax/normalisations and maps in fp32 (as advadinfer); speed-up is\n"
                 "against the first precision of the list (same size and batch). On CUDA the device is\n"
                 "synchronised before every clock reading; the input is made on the device (no transfer).\n"
                 "FLOPs are counted analytically (2 per multiply-add: linear, conv, attention matmuls) and\n"
                 "compared with a plain fp32 4096x1024x4096 matmul on the same device.");
  args.option("encoders", "LIST", "comma-separated: vit_small, vit_base, vit_large", "vit_small,vit_base,vit_large")
      .option("sizes", "LIST", "comma-separated input sides (multiples of 14): 392 = official crop, 448 = seed",
              "392,448")
      .option("iters", "N", "timed forward passes per row (after one warm-up pass)", "2")
      .option("batch", "LIST", "comma-separated tiles per forward pass, e.g. 1,8 (one row each)", "1")
      .option("device", "DEV", "cpu | cuda | cuda:N | auto (auto = cuda:0 when LibTorch sees a GPU, else cpu)", "cpu")
      .option("threads", "N", "intra-op threads (0 = all cores)", "0")
      .option("precision", "LIST", "comma-separated: fp32, bf16, int8, auto (auto = what advadinfer picks here); int8 = dynamic int8 linear layers (oneDNN/FBGEMM)",
              "fp32")
      .option("maps", "WHICH",
              "seed: group maps + the seed tile map (upsample, blur, score), as advadinfer; groups: the group "
              "maps upsampled to the input and averaged, no blur (what the official evaluation computes from "
              "the network's output; scripts/compare_official_inpformer.sh uses it)",
              "seed")
      .option("json", "FILE", "also write the rows (with units) as one JSON object to FILE ('-' = stdout)");
  if (!args.parse(argc, argv)) return 0;
  torch::Device device(torch::kCPU);
  try {
    device = resolve_device(args.str("device"));
  } catch (const ModelError& e) {
    throw cli::UsageError("advad bench inpformer: --device: " + std::string(e.what()));
  }
  std::vector<PrecisionChoice> precisions;
  for (const auto& s : split(args.str("precision"))) {
    precisions.push_back(resolve_precision(s, device));  // ModelError naming bad values (int8 off the CPU too)
  }
  if (precisions.empty()) throw cli::UsageError("advad bench inpformer: --precision needs at least one value");
  const std::string maps = args.str("maps");
  if (maps != "seed" && maps != "groups")
    throw cli::UsageError("advad bench inpformer: --maps must be seed or groups, got '" + maps + "'");
  const int iters = args.integer("iters");
  if (iters < 1) throw cli::UsageError("advad bench inpformer: --iters must be >= 1");
  std::vector<int> batches;
  for (const auto& s : split(args.str("batch"))) {
    int v = 0;
    size_t used = 0;
    try {
      v = std::stoi(s, &used);
    } catch (...) {
    }
    if (v < 1 || used != s.size())
      throw cli::UsageError("advad bench inpformer: --batch value '" + s + "' is not an integer >= 1");
    batches.push_back(v);
  }
  if (batches.empty()) throw cli::UsageError("advad bench inpformer: --batch needs at least one value");
  std::vector<int> sizes;
  for (auto& s : split(args.str("sizes"))) {
    int v = 0;
    try {
      v = std::stoi(s);
    } catch (...) {
    }
    if (v < 14 || v % 14) throw cli::UsageError("advad bench inpformer: size '" + s + "' is not a multiple of 14");
    sizes.push_back(v);
  }
  std::vector<std::pair<std::string, inpformer::InpFormerConfig>> configs;
  for (const auto& enc : split(args.str("encoders"))) {
    configs.emplace_back(enc, inpformer::preset_config(enc));  // throws ModelError naming unknown encoders
    configs.back().second.depth = configs.back().second.run_depth();  // inference builds only the blocks that run
  }
  std::vector<std::pair<int, int>> shapes;  // (side, batch), in the order of the rows
  for (int side : sizes)
    for (int batch : batches) shapes.emplace_back(side, batch);
  configure_runtime(args.integer("threads"));
  torch::NoGradGuard ng;
  const double mm = matmul_gflops(5, device);
  std::printf("device %s; threads %d; plain matmul 4096x1024x4096: %.1f GFLOP/s (fp32)\n", device.str().c_str(),
              torch::get_num_threads(), mm);
  for (const auto& pc : precisions) std::printf("precision %s\n", pc.str().c_str());
  std::printf("\n%-10s %5s %6s %-5s %5s %10s %10s %9s %9s %8s %8s\n", "encoder", "size", "tokens", "prec", "batch",
              "GFLOP/tile", "ms/tile", "tiles/s", "GFLOP/s", "vs mm", "speed-up");
  nlohmann::json out;
  out["device"] = device.str();
  out["threads"] = torch::get_num_threads();
  out["iters"] = iters;
  out["batches"] = batches;
  out["maps"] = maps;
  out["matmul_fp32_gflop_per_s"] = mm;
  out["units"] = {{"gflop_per_tile", "GFLOP"}, {"ms_per_tile", "ms"}, {"tiles_per_s", "1/s"},
                  {"gflop_per_s", "GFLOP/s"}, {"vs_matmul", "fraction of fp32 matmul GFLOP/s"},
                  {"speedup", "x vs the first precision (same size and batch)"}};
  out["rows"] = nlohmann::json::array();
  for (const auto& [enc, cfg] : configs) {
    std::map<std::pair<int, int>, double> first_ms;  // (side, batch) -> ms/tile of the first precision
    for (const auto& pc : precisions) {
      torch::manual_seed(0);  // the same random weights for every precision
      inpformer::InpFormerNet net(cfg);
      net->eval();
      net->to(device, pc.dtype);
      if (pc.name == "int8") inpformer::quantize_dense_layers_int8(*net);  // ModelError without an engine
      for (const auto& shape : shapes) {
        const int side = shape.first, batch = shape.second;
        torch::manual_seed(1);
        auto x = torch::randn({batch, 3, side, side}).to(device, pc.dtype);
        auto run = [&] {
          auto o = net->forward(x);
          auto gm = inpformer::group_maps(o);  // float32
          if (maps == "groups")
            at::upsample_bilinear2d(gm, {side, side}, /*align_corners=*/true).mean(1);
          else
            for (int b = 0; b < batch; ++b) inpformer::seed_tile_map(gm[b], side, side);
        };
        run();  // warm-up (also builds the position table for this size)
        sync(device);
        double t0 = now_s();
        for (int i = 0; i < iters; ++i) run();
        sync(device);
        const double per_tile = (now_s() - t0) / iters / batch;
        const double gf = forward_flops(cfg, side) / 1e9;
        const int g = side / cfg.patch_size;
        const double ms = per_tile * 1e3;
        if (!first_ms.count({side, batch})) first_ms[{side, batch}] = ms;
        const double speedup = first_ms[{side, batch}] / ms;
        std::printf("%-10s %5d %6d %-5s %5d %10.1f %10.1f %9.2f %9.1f %7.0f%% %7.2fx\n", enc.c_str(), side,
                    g * g + 1 + cfg.registers, pc.name.c_str(), batch, gf, ms, 1.0 / per_tile, gf / per_tile,
                    100.0 * gf / per_tile / mm, speedup);
        std::fflush(stdout);
        out["rows"].push_back({{"encoder", enc},
                               {"size", side},
                               {"tokens", g * g + 1 + cfg.registers},
                               {"precision", pc.name},
                               {"batch", batch},
                               {"device", device.str()},
                               {"gflop_per_tile", gf},
                               {"ms_per_tile", ms},
                               {"tiles_per_s", 1.0 / per_tile},
                               {"gflop_per_s", gf / per_tile},
                               {"vs_matmul", gf / per_tile / mm},
                               {"speedup", speedup}});
      }
    }
  }
  if (args.has("json")) write_json_output(args.str("json"), out);
  return 0;
}

}  // namespace advad::tools
