// advad bench cpr: per-image CPR time split (backbone + heads, GRB retrieval,
// local matching, foreground, post = blur + top-T) and bank memory, for
// banks of several sizes and network precisions. Weights and bank features
// are random (timing and memory do not depend on their values); the bank is
// really allocated.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/model.h"
#include "cpr/bank/bank.h"
#include "cpr/model/model.h"
#include "cpr/model/scorer.h"
#include "tools/cli.h"
#include "tools/json_out.h"
#include "tools/subcommands.h"

namespace advad::tools {
namespace {

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string tok; std::getline(ss, tok, ',');) {
    try {
      v.push_back(std::stoi(tok));
    } catch (const std::exception&) {
      throw cli::UsageError("advad bench cpr: --images '" + s + "' is not a comma-separated list of integers");
    }
    if (v.back() < 1) throw cli::UsageError("advad bench cpr: --images values must be >= 1");
  }
  if (v.empty()) throw cli::UsageError("advad bench cpr: --images is empty");
  return v;
}

// A bank of n random training images (normalised features, codebook, histograms, FEB).
cpr::CprBank random_bank(int64_t n, int64_t size, int64_t dim, torch::ScalarType dtype, const torch::Device& device) {
  cpr::CprBank b;
  b.input_h = b.input_w = size;
  for (int s = 0; s < 2; ++s) {
    const int64_t g = size / (s == 0 ? 4 : 8);
    b.features[static_cast<size_t>(s)] = torch::empty({n, dim, g, g}, torch::TensorOptions().dtype(dtype).device(device));
    for (int64_t i = 0; i < n; i += 16) {  // fill in chunks: no fp32 copy of the whole bank
      const int64_t c = std::min<int64_t>(16, n - i);
      b.features[static_cast<size_t>(s)].narrow(0, i, c).copy_(cpr::l2_normalise(torch::randn({c, dim, g, g})));
    }
  }
  b.codebook = torch::randn({12, 256});
  auto h = torch::rand({n, 25, 13});
  b.histograms = h / h.sum(-1, true);
  b.feb_weight = torch::randn({1, 256, 1, 1}) * 0.01;
  b.feb_bias = torch::full({1}, 0.5f);
  b.foreground = torch::rand({n, size / 4, size / 4});
  for (int64_t i = 0; i < n; ++i) b.train_names.push_back("bench/" + std::to_string(i) + ".png");
  return b;
}

// VmRSS / VmHWM of this process in kB (-1 when /proc is not readable).
long proc_status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

// Peak memory (MB) that scoring one query costs beyond what is resident
// before it: retrieval, matching, foreground and post on random head outputs
// (the backbone's activations excluded). Large blocks are returned to the
// system when freed (fixed mmap threshold), and the peak is reset first
// (/proc/self/clear_refs), so the figure is the scorer's own temporaries.
// -1 when the peak cannot be reset.
double scoring_peak_mb(const cpr::CprModel& model, int64_t size) {
  const int64_t D = model.bank().head_dim();
  const auto tap0 = torch::randn({256, size / 4, size / 4});
  const std::array<torch::Tensor, 2> heads = {cpr::l2_normalise(torch::randn({1, D, size / 4, size / 4}))[0],
                                              cpr::l2_normalise(torch::randn({1, D, size / 8, size / 8}))[0]};
  cpr::score_query(model.bank(), model.settings(), tap0, heads);  // warm-up (thread pool, caches)
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // only for this measurement: every large block is mmapped
  malloc_trim(0);
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    if (!clear) return -1;
  }
  const long before = proc_status_kb("VmRSS");
  cpr::score_query(model.bank(), model.settings(), tap0, heads);
  const long peak = proc_status_kb("VmHWM");
  // Back to glibc's largest dynamic thresholds, so that the next bank size times as before.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  if (before < 0 || peak < 0) return -1;
  return (peak - before) / 1024.0;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');)
    if (!t.empty()) r.push_back(t);
  return r;
}

std::string fmt(double v, int prec = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

}  // namespace

int bench_cpr_main(int argc, char** argv) {
  cli::Args args("bench cpr",
                 "Time CPR per image, split into backbone (DenseNet201 trunk + both LRB heads), retrieval\n"
                 "(GRB codes, histograms, KL ranking over the bank), matching (local min cosine over the K\n"
                 "retrieved images, fusion), foreground (FEB + weighting) and post (blur + top-T), and report\n"
                 "the bank's memory for each number of training images and network precision. Random weights\n"
                 "and features.");
  args.option("images", "N[,N...]", "bank sizes (training images) to measure", "100,400")
      .option("k", "N", "retrieved training images per query", "10")
      .option("queries", "N", "timed queries per bank size (after one warm-up)", "5")
      .option("size", "N", "input side", "320")
      .option("bank-dtype", "fp32|fp16", "dtype of the feature bank", "fp32")
      .option("device", "DEV", "auto | cpu | cuda | cuda:N", "auto")
      .option("threads", "N", "intra-op CPU threads (0 = all cores)", "0")
      .option("precision", "LIST",
              "comma-separated network precisions: fp32, bf16, auto (= what advadinfer picks for CPR here); "
              "bf16 runs the trunk (less its stem) and the heads in bf16, the rest in fp32; speed-up is "
              "against the first of the list",
              "fp32")
      .option("json", "FILE", "also write the rows (with units) as one JSON object to FILE ('-' = stdout)")
      .flag("no-foreground", "texture mode: no foreground weighting");
  if (!args.parse(argc, argv)) return 0;
  const auto sizes = parse_list(args.str("images"));
  const int queries = args.integer("queries"), size = args.integer("size");
  if (queries < 1) throw cli::UsageError("advad bench cpr: --queries must be >= 1");
  if (size < 32 || size % 8) throw cli::UsageError("advad bench cpr: --size must be a multiple of 8, at least 32");
  torch::ScalarType dtype = torch::kFloat;
  if (args.str("bank-dtype") == "fp16") dtype = torch::kHalf;
  else if (args.str("bank-dtype") != "fp32") throw cli::UsageError("advad bench cpr: --bank-dtype must be fp32 or fp16");
  configure_runtime(args.integer("threads"));
  const torch::Device device = resolve_device(args.str("device"));
  std::vector<PrecisionChoice> precisions;
  Profile cpr_profile;
  cpr_profile.method = "cpr";
  for (const auto& s : split_names(args.str("precision"))) {
    ModelOptions o;
    o.device = device.str();
    o.precision = s;
    precisions.push_back(resolve_model_precision(cpr_profile, o));  // ModelError naming bad values
    if (precisions.back().name == "int8")
      throw ModelError("advad bench cpr: precision 'int8' is not implemented for CPR (only INP-Former has an int8 "
                       "path); use fp32, bf16 or auto");
  }
  if (precisions.empty()) throw cli::UsageError("advad bench cpr: --precision needs at least one value");

  cpr::CprSettings settings;
  settings.k = args.integer("k");
  settings.foreground = !args.on("no-foreground");
  settings.bank_dtype = dtype;
  std::cout << "CPR per-image time (ms, mean of " << queries << " queries, batch 1, " << size << "x" << size
            << ", K=" << settings.k << ", foreground " << (settings.foreground ? "on" : "off") << ", device "
            << device.str() << ", " << at::get_num_threads() << " threads)\n";
  for (const auto& pc : precisions) std::cout << "precision " << pc.str() << "\n";
  std::cout << "\n| train images | bank | precision | bank MB | MB/image | backbone | retrieval | matching | foreground | post | total | speed-up | matching % | scoring peak MB |\n"
            << "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  nlohmann::json out;
  out["size"] = size;
  out["k"] = settings.k;
  out["queries"] = queries;
  out["foreground"] = settings.foreground;
  out["device"] = device.str();
  out["threads"] = at::get_num_threads();
  out["precisions"] = nlohmann::json::array();
  for (const auto& pc : precisions) out["precisions"].push_back({{"name", pc.name}, {"reason", pc.reason}});
  out["units"] = {{"bank_mb", "MB"}, {"mb_per_image", "MB"}, {"backbone_ms", "ms/image"},
                  {"retrieval_ms", "ms/image"}, {"matching_ms", "ms/image"}, {"foreground_ms", "ms/image"},
                  {"post_ms", "ms/image"}, {"total_ms", "ms/image"}, {"speedup", "x vs the first precision (total)"},
                  {"matching_percent", "% of total"}, {"scoring_peak_mb", "MB (null: not measurable)"}};
  out["rows"] = nlohmann::json::array();
  for (int n : sizes) {
    double first_total = 0;
    for (const auto& pc : precisions) {
      torch::manual_seed(0);  // the same random weights and bank for every precision
      cpr::CprModel model(cpr::CprNetwork(), random_bank(n, size, cpr::kDefaultHeadDim, dtype, device), settings, device,
                          pc.dtype);
      torch::manual_seed(1);
      const auto query = torch::randn({1, 3, size, size});
      model.score_details(query);  // warm-up
      cpr::CprTimings t;
      for (int q = 0; q < queries; ++q) model.score_details(query, &t);
      const double d = t.images;
      const double total = (t.backbone + t.retrieval + t.matching + t.foreground + t.post) / d;
      if (first_total == 0) first_total = total;
      const auto& bank = model.bank();
      const double peak = scoring_peak_mb(model, size);
      std::cout << "| " << n << " | " << args.str("bank-dtype") << " | " << pc.name << " | " << fmt(bank.bytes() / 1e6)
                << " | " << fmt(bank.bytes_per_image() / 1e6, 2) << " | " << fmt(t.backbone / d) << " | "
                << fmt(t.retrieval / d) << " | " << fmt(t.matching / d) << " | " << fmt(t.foreground / d) << " | "
                << fmt(t.post / d) << " | " << fmt(total) << " | " << fmt(first_total / total, 2) << "x | "
                << fmt(100.0 * t.matching / d / total) << " | " << (peak < 0 ? std::string("n/a") : fmt(peak))
                << " |\n"
                << std::flush;
      out["rows"].push_back({{"train_images", n},
                             {"bank_dtype", args.str("bank-dtype")},
                             {"precision", pc.name},
                             {"bank_mb", bank.bytes() / 1e6},
                             {"mb_per_image", bank.bytes_per_image() / 1e6},
                             {"backbone_ms", t.backbone / d},
                             {"retrieval_ms", t.retrieval / d},
                             {"matching_ms", t.matching / d},
                             {"foreground_ms", t.foreground / d},
                             {"post_ms", t.post / d},
                             {"total_ms", total},
                             {"speedup", first_total / total},
                             {"matching_percent", 100.0 * t.matching / d / total},
                             {"scoring_peak_mb", peak < 0 ? nlohmann::json(nullptr) : nlohmann::json(peak)}});
    }
  }
  std::cout << "\nbank memory = N x (D x (H/4 x W/4 + H/8 x W/8) feature values + 25x13 histogram + H/4 x W/4 "
               "foreground) + codebook + FEB; latency is nearly independent of N (retrieval scans N histograms).\n"
               "matching % = matching / total; scoring peak MB = peak memory of one query's scoring beyond what was "
               "resident before it (retrieval, matching, foreground, post; the backbone's activations excluded).\n"
               "speed-up = total of the first precision / this row's total, same bank size.\n";
  if (args.has("json")) write_json_output(args.str("json"), out);
  return 0;
}

}  // namespace advad::tools
