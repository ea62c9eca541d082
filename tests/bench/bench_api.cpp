// Google Benchmark programs (`meson benchmark -C build`, option 'benchmarks'):
// what one frame costs through the public API on the demo package, and the
// post-processing alone, at a camera-like 640x480.
#include <advad/advad.h>
#include <benchmark/benchmark.h>

#include <filesystem>

#include "core/demo_model.h"
#include "core/postproc.h"

namespace {

const std::string& demo_package() {
  static const std::string ini = [] {
    const auto dir = std::filesystem::temp_directory_path() / "advad_bench_api";
    return advad::write_demo_package(dir.string());
  }();
  return ini;
}

void BM_DetectorScore(benchmark::State& state) {
  advad::DetectorOptions o;
  o.device = "cpu";
  advad::Detector d(demo_package(), o);
  const cv::Mat frame = advad::make_synthetic_frame(640, 480, true, 1);
  const advad::ImageView v{frame.data, frame.cols, frame.rows, frame.step, advad::ImageFormat::RGB8};
  for (auto _ : state) benchmark::DoNotOptimize(d.score(v));
}
BENCHMARK(BM_DetectorScore)->Unit(benchmark::kMillisecond);

void BM_Postprocess(benchmark::State& state) {
  const advad::Profile p = advad::load_profile(demo_package());
  cv::Mat map(480, 640, CV_32F);
  cv::randu(map, 0.f, 0.6f);  // noise around the 0.5 threshold: many small regions to drop
  for (auto _ : state) benchmark::DoNotOptimize(advad::postprocess(map, 0.6f, p.threshold, p.post));
}
BENCHMARK(BM_Postprocess)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
