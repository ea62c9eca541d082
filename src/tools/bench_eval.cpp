// advad bench eval: time and peak memory of the AU-PRO / AUROC evaluation on
// a generated object of realistic size (default 100 maps of 2448x2048, the
// fabric / rice / walnuts resolution), exact mode vs float16 streaming mode.
// Each mode runs in its own forked process so that its peak RSS
// (getrusage ru_maxrss) is its own. Maps are generated one at a time (smooth
// random field + responses over random elliptic defects, rounded to float16 as
// the server reads them); generation time is excluded from the timing.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/error.h"
#include "data/half.h"
#include "metrics/object_eval.h"
#include "tools/cli.h"
#include "tools/subcommands.h"

namespace advad::tools {
namespace {

struct BenchResult {
  double seconds = 0;       // add() + finish(), generation excluded
  double finish_seconds = 0;
  long base_rss_kb = 0, peak_rss_kb = 0;
  double au_pro_005 = 0, au_pro_03 = 0, pixel_auroc = 0;
  uint64_t distinct = 0;
};

long max_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Map i of the generated object: values in about [0, 1.6]; every 3rd image good.
void make_image(int i, int w, int h, uint32_t seed, cv::Mat& map, cv::Mat& gt) {
  cv::RNG rng(seed * 7919u + static_cast<uint32_t>(i));
  cv::Mat low(std::max(2, h / 64), std::max(2, w / 64), CV_32F);
  rng.fill(low, cv::RNG::UNIFORM, 0.0, 1.0);
  cv::resize(low, map, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  gt = cv::Mat::zeros(h, w, CV_8U);
  if (i % 3 != 0) {
    const int n = 1 + rng.uniform(0, 3);
    for (int k = 0; k < n; ++k) {
      const int r = rng.uniform(3, std::max(4, std::min(w, h) / 30));
      cv::ellipse(gt, cv::Point(rng.uniform(r, w - r), rng.uniform(r, h - r)), cv::Size(r, std::max(1, r / 2)),
                  rng.uniform(0, 180), 0, 360, cv::Scalar(1), cv::FILLED);
    }
    cv::Mat bump;
    gt.convertTo(bump, CV_32F, 0.6);
    cv::GaussianBlur(bump, bump, cv::Size(9, 9), 0);
    map += bump;
  }
  cv::Mat noise(h, w, CV_32F);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, 0.02);
  map += noise;
}

BenchResult run_mode(PixelMode mode, int n, int w, int h, uint32_t seed) {
  BenchResult r;
  r.base_rss_kb = max_rss_kb();
  PixelOptions o;
  o.mode = mode;
  o.limits = {0.05, 0.3};
  ObjectEvaluator ev("bench", "test", o);
  double t = 0;
  cv::Mat map, gt;
  for (int i = 0; i < n; ++i) {
    make_image(i, w, h, seed, map, gt);
    const cv::Mat bits = to_half_bits(map);  // what a float16 TIFF holds
    const auto t0 = std::chrono::steady_clock::now();
    if (mode == PixelMode::Float16)
      ev.add_half(bits, gt, cv::Mat());
    else
      ev.add(from_half_bits(bits), gt, cv::Mat());
    t += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const auto t0 = std::chrono::steady_clock::now();
  ObjectResult res = ev.finish();
  r.finish_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.seconds = t + r.finish_seconds;
  r.peak_rss_kb = max_rss_kb();
  r.au_pro_005 = res.pixel.au_pro_at(0.05);
  r.au_pro_03 = res.pixel.au_pro_at(0.3);
  r.pixel_auroc = res.pixel.pixel_auroc;
  r.distinct = res.pixel.distinct_scores;
  return r;
}

// Runs one mode in a child process; the result comes back through a pipe.
BenchResult run_forked(PixelMode mode, int n, int w, int h, uint32_t seed) {
  int fd[2];
  if (pipe(fd) != 0) throw std::runtime_error("pipe failed");
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fd[0]);
    BenchResult r;
    int code = 0;
    try {
      r = run_mode(mode, n, w, h, seed);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench eval (%s): %s\n", to_string(mode).c_str(), e.what());
      code = 1;
    }
    const ssize_t wrote = write(fd[1], &r, sizeof r);
    close(fd[1]);
    _exit(wrote == static_cast<ssize_t>(sizeof r) ? code : 1);
  }
  close(fd[1]);
  BenchResult r;
  const ssize_t got = read(fd[0], &r, sizeof r);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("bench eval: the " + to_string(mode) +
                             " run failed (killed for memory? try fewer --images or a smaller --size)");
  return r;
}

}  // namespace

int bench_eval_main(int argc, char** argv) {
  cli::Args a("bench eval",
              "Time and peak memory (max RSS) of evaluating one generated object: AU-PRO at 0.05 and 0.3 plus pixel\n"
              "AUROC, exact (sort-based) vs float16 (histogram, streaming) mode. Maps are float16 values, so both\n"
              "modes must give the same numbers; the table shows them side by side.");
  a.option("images", "N", "number of maps (one third good, the rest with 1-3 elliptic defects)", "100")
      .option("size", "WxH", "map size", "2448x2048")
      .option("modes", "LIST", "comma-separated: float16, exact", "float16,exact")
      .option("seed", "S", "generator seed", "1");
  if (!a.parse(argc, argv)) return 0;
  const int n = a.integer("images");
  if (n < 1) throw cli::UsageError("advad bench eval: --images must be >= 1");
  int w = 0, h = 0;
  char extra = 0;
  if (std::sscanf(a.str("size").c_str(), "%dx%d%c", &w, &h, &extra) != 2 || w < 16 || h < 16)
    throw cli::UsageError("advad bench eval: --size expects WxH with W, H >= 16, got '" + a.str("size") + "'");
  std::vector<PixelMode> modes;
  std::stringstream ss(a.str("modes"));
  for (std::string m; std::getline(ss, m, ',');) {
    try {
      modes.push_back(parse_pixel_mode(m));
    } catch (const InputError& e) {
      throw cli::UsageError(std::string("advad bench eval: --modes: ") + e.what());
    }
  }
  const double mpix = static_cast<double>(n) * w * h / 1e6;
  std::printf("object: %d maps of %dx%d (%.1f Mpixel), float16 values\n", n, w, h, mpix);
  std::printf("%-8s %9s %9s %11s %11s %10s %12s %12s %10s\n", "mode", "time s", "finish s", "Mpix/s", "peak MiB",
              "+MiB", "AU-PRO@0.05", "AU-PRO@0.3", "P-AUROC");
  std::fflush(stdout);
  for (PixelMode m : modes) {
    const BenchResult r = run_forked(m, n, w, h, static_cast<uint32_t>(a.integer("seed")));
    std::printf("%-8s %9.2f %9.2f %11.1f %11.1f %10.1f %12.8f %12.8f %10.6f\n", to_string(m).c_str(), r.seconds,
                r.finish_seconds, mpix / r.seconds, r.peak_rss_kb / 1024.0, (r.peak_rss_kb - r.base_rss_kb) / 1024.0,
                r.au_pro_005, r.au_pro_03, r.pixel_auroc);
    std::fflush(stdout);
  }
  std::printf("peak MiB: max RSS of the process that ran the mode; +MiB: growth over its start. Maps are generated\n"
              "one at a time, so +MiB = what the mode keeps (exact: ~4 bytes per normal pixel; float16: a fixed ~2 MiB)\n"
              "plus the generator's buffers for one map (~16 bytes per pixel of one image).\n");
  return 0;
}

}  // namespace advad::tools
