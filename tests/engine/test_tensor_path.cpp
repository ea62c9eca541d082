// The device-tensor frame path (core/tensor_frame.h, FramePath::Tensor) on the CPU against
// the OpenCV path (to_rgb + make_batch + stitch), which stays the CPU default.
//   resize: bit-exact with pil_resize_bilinear and cv::resize INTER_LINEAR / INTER_AREA on
//           downscales (integer and not), upscales and odd sizes;
//   frames: demo TorchScript scorer and INP-Former tiny-reg4 (tests/data/inpformer), several
//           tilings (1x1, 2x2, 4x2, 1x1;2x2 mean/max, overlap + Hann), RGB/BGRx/gray, odd sizes;
//   blur:   gaussian_blur_tensor against cv::GaussianBlur.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <torch/cuda.h>

#include "core/demo_model.h"
#include "core/error.h"
#include "core/model.h"
#include "core/resize.h"
#include "core/tensor_frame.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"
#include "test_support.h"

namespace advad {
namespace {

// Measured tolerances (tensor path vs OpenCV path on the CPU), see the tests.
constexpr double kExactTol = 1e-4;    // pil-bilinear (bit-exact pixels): paste, mean, max, Hann
constexpr double kLinearTol = 1e-4;   // linear: OpenCV's fixed point replayed, bit-exact pixels
constexpr double kAreaTol = 1e-4;     // area: OpenCV's float32 area sums replayed in its order (measured 4.3e-7)
constexpr double kBlurTol = 1e-5;

cv::Mat random_image(int w, int h, int type, uint32_t seed) {
  cv::Mat m(h, w, type);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  // Some smooth structure too, so the filters see edges and gradients.
  cv::GaussianBlur(m, m, cv::Size(5, 5), 0);
  return m;
}

struct PixelDiff {
  double share = 0;  // of pixels (channel values) that differ
  int max = 0;
};

PixelDiff compare_u8(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double mx = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &mx);
  return {static_cast<double>(cv::countNonZero(d.reshape(1))) / static_cast<double>(d.total() * d.channels()),
          static_cast<int>(mx)};
}

// The tensor resize of one RGB image, back as an 8UC3 cv::Mat.
cv::Mat tensor_resize(TensorFrameBatcher& b, const cv::Mat& rgb, cv::Size size, ResizeFilter f) {
  torch::Tensor t = torch::from_blob(rgb.data, {1, rgb.rows, rgb.cols, 3}, torch::kUInt8).permute({0, 3, 1, 2});
  torch::Tensor out = b.resize(t, size.width, size.height, f).permute({0, 2, 3, 1}).contiguous();
  return cv::Mat(size.height, size.width, CV_8UC3, out.data_ptr<uint8_t>()).clone();
}

const std::vector<std::pair<cv::Size, cv::Size>> kResizeCases{
    {{640, 480}, {128, 128}}, {{333, 257}, {128, 128}}, {{1224, 1024}, {448, 448}}, {{100, 80}, {128, 128}},
    {{256, 256}, {128, 128}}, {{129, 301}, {64, 96}},   {{60, 200}, {90, 100}},     {{448, 448}, {448, 448}}};

TEST(TensorResize, PilBilinearIsBitExact) {
  TensorFrameBatcher b(torch::kCPU);
  for (const auto& [in, out] : kResizeCases) {
    const cv::Mat img = random_image(in.width, in.height, CV_8UC3, in.width * 7 + out.width);
    const PixelDiff d = compare_u8(tensor_resize(b, img, out, ResizeFilter::PilBilinear), pil_resize_bilinear(img, out));
    EXPECT_EQ(d.max, 0) << in << " -> " << out;
  }
}

TEST(TensorResize, LinearAndAreaAgainstCvResize) {
  TensorFrameBatcher b(torch::kCPU);
  for (ResizeFilter f : {ResizeFilter::Linear, ResizeFilter::Area}) {
    double worst_share = 0;
    int worst = 0;
    for (const auto& [in, out] : kResizeCases) {
      const cv::Mat img = random_image(in.width, in.height, CV_8UC3, in.width * 7 + out.width);
      const PixelDiff d = compare_u8(tensor_resize(b, img, out, f), resize_image(img, out, f));
      std::cout << "  " << to_string(f) << " " << in << " -> " << out << ": " << d.share * 100
                << " % of values differ, max " << d.max << " gray levels\n";
      worst_share = std::max(worst_share, d.share);
      worst = std::max(worst, d.max);
    }
    // What the asserts hold (measured here, Debian OpenCV 4.6): see the header and docs/gpu.md.
    // Both measured bit-exact (0 values differ) with Debian's OpenCV 4.6 on x86-64.
    EXPECT_EQ(worst, 0) << to_string(f);
    EXPECT_EQ(worst_share, 0.0) << to_string(f);
  }
}

// ---- whole frames: demo scorer ----

struct Case {
  std::string tiling;  // levels
  double overlap;
  MergeMode merge;
  BlendMode blend;
};

std::shared_ptr<Profile> demo(const std::string& ini, const Case& c, ResizeFilter f) {
  auto p = std::make_shared<Profile>(load_profile(ini));
  p->tiling.levels = parse_levels(c.tiling);
  p->tiling.overlap = c.overlap;
  p->tiling.merge = c.merge;
  p->tiling.blend = c.blend;
  p->input.resize = f;
  return p;
}

struct MapDiff {
  double max = 0, score = 0;
};

MapDiff compare_paths(const std::shared_ptr<const Profile>& p, const std::shared_ptr<Model>& model, const cv::Mat& frame,
                      PixelFormat fmt) {
  FrameScorerOptions cv_opt, t_opt;
  cv_opt.path = FramePath::OpenCV;
  t_opt.path = FramePath::Tensor;
  FrameScorer a(p, model, 0, cv_opt), b(p, model, 3, t_opt);  // the tensor path also in chunks of 3
  EXPECT_EQ(a.path(), FramePath::OpenCV);
  EXPECT_EQ(b.path(), FramePath::Tensor);
  const TileLayout layout = make_tile_layout(frame.cols, frame.rows, p->tiling);
  const AnomalyMap ma = a.score(frame, fmt, layout), mb = b.score(frame, fmt, layout);
  EXPECT_TRUE(mb.map.empty());  // left on the device until read
  EXPECT_EQ(ma.map.size(), mb.host_map().size());
  EXPECT_EQ(mb.host_map().type(), CV_32F);
  return {cv::norm(ma.map, mb.host_map(), cv::NORM_INF), std::abs(ma.score - mb.score)};
}

const std::vector<Case> kCases{{"1x1", 0, MergeMode::Paste, BlendMode::None},
                               {"2x2", 0, MergeMode::Paste, BlendMode::None},
                               {"4x2", 0, MergeMode::Paste, BlendMode::None},
                               {"1x1;2x2", 0, MergeMode::Mean, BlendMode::None},
                               {"1x1;2x2", 0, MergeMode::Max, BlendMode::None},
                               {"2x2", 0.25, MergeMode::Mean, BlendMode::Hann},
                               {"1x1;3x2", 0.2, MergeMode::Mean, BlendMode::Hann}};

std::string describe(const Case& c) {
  return c.tiling + " " + to_string(c.merge) + (c.overlap > 0 ? " overlap " + std::to_string(c.overlap) : "") +
         (c.blend == BlendMode::Hann ? " hann" : "");
}

TEST(TensorPath, DemoScorerMatchesTheOpenCvPath) {
  test::TempDir d("tensor_path");
  DemoOptions o;
  o.input_size = 96;
  const std::string ini = write_demo_package(d.file("demo"), o);
  ModelOptions mo;
  mo.device = "cpu";
  mo.threads = 2;
  std::shared_ptr<Model> model = create_model(load_profile(ini), mo);
  const std::vector<cv::Size> sizes{{160, 120}, {333, 257}, {97, 131}};
  for (ResizeFilter f : {ResizeFilter::PilBilinear, ResizeFilter::Linear, ResizeFilter::Area}) {
    const double tol = f == ResizeFilter::PilBilinear ? kExactTol : f == ResizeFilter::Linear ? kLinearTol : kAreaTol;
    double worst = 0;
    for (const Case& c : kCases) {
      auto p = demo(ini, c, f);
      double case_worst = 0;
      for (size_t s = 0; s < sizes.size(); ++s) {
        const cv::Mat rgb = make_synthetic_frame(sizes[s].width, sizes[s].height, true, 11 + static_cast<uint32_t>(s));
        std::vector<std::pair<cv::Mat, PixelFormat>> frames{{rgb, PixelFormat::RGB}};
        if (s == 1) {  // gray and a 4-channel format on the odd size
          cv::Mat gray, bgrx;
          cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
          cv::cvtColor(rgb, bgrx, cv::COLOR_RGB2BGRA);
          frames.push_back({gray, PixelFormat::GRAY8});
          frames.push_back({bgrx, PixelFormat::BGRx});
        }
        for (const auto& [frame, fmt] : frames) {
          const MapDiff m = compare_paths(p, model, frame, fmt);
          case_worst = std::max(case_worst, m.max);
          EXPECT_LE(m.max, tol) << to_string(f) << " " << describe(c) << " " << sizes[s] << " fmt " << static_cast<int>(fmt);
          EXPECT_LE(m.score, tol) << to_string(f) << " " << describe(c);
        }
      }
      std::cout << "  demo scorer, " << to_string(f) << ", " << describe(c) << ": max |map diff| " << case_worst << "\n";
      worst = std::max(worst, case_worst);
    }
    std::cout << "  demo scorer, " << to_string(f) << ": max |map diff| over " << kCases.size()
              << " tilings x 3 sizes (RGB; gray and BGRx on 333x257) = " << worst << " (tolerance " << tol << ")\n";
  }
}

TEST(TensorPath, RoiFrameAndDefaultPath) {
  test::TempDir d("tensor_roi");
  DemoOptions o;
  o.input_size = 64;
  const std::string ini = write_demo_package(d.file("demo"), o);
  auto p = std::make_shared<const Profile>(load_profile(ini));
  ModelOptions mo;
  mo.device = "cpu";
  mo.threads = 2;
  std::shared_ptr<Model> model = create_model(*p, mo);
  // The CPU default stays the OpenCV path.
  EXPECT_EQ(FrameScorer(p, model, 0).path(), FramePath::OpenCV);
  // A frame that is a view into a larger image (rows not contiguous).
  const cv::Mat big = make_synthetic_frame(200, 150, true, 3);
  const cv::Mat roi = big(cv::Rect(13, 7, 151, 99));
  EXPECT_LE(compare_paths(p, model, roi, PixelFormat::RGB).max, kExactTol);
  EXPECT_EQ(parse_frame_path("tensor"), FramePath::Tensor);
  EXPECT_THROW(parse_frame_path("gpu"), InputError);
  FrameScorerOptions t;
  t.path = FramePath::Tensor;
  FrameScorer s(p, model, 0, t);
  const TileLayout layout = make_tile_layout(100, 80, p->tiling);
  EXPECT_THROW(s.score(make_synthetic_frame(64, 48, false, 1), PixelFormat::RGB, layout), InputError);
  EXPECT_THROW(s.score(cv::Mat(80, 100, CV_8UC4, cv::Scalar::all(0)), PixelFormat::RGB, layout), InputError);
}

// ---- whole frames: INP-Former tiny-reg4 (the shipped fixture) ----

TEST(TensorPath, InpFormerTinyMatchesTheOpenCvPath) {
  test::TempDir d("tensor_inp");
  const std::string ini = d.file("tiny.ini");
  std::ofstream(ini) << "[profile]\nmethod = inpformer\nmodel = " << test::test_data("inpformer/model.pth")
                     << "\n[input]\nwidth = 448\nheight = 448\ncrop = 392\n";
  cv::Mat bgr = cv::imread(test::test_data("inpformer/input.png"), cv::IMREAD_COLOR), rgb;
  ASSERT_FALSE(bgr.empty());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  ModelOptions mo;
  mo.device = "cpu";
  mo.threads = 2;
  mo.precision = "fp32";
  auto base = std::make_shared<Profile>(load_profile(ini));
  std::shared_ptr<Model> model = create_model(*base, mo);
  const std::vector<std::pair<Case, ResizeFilter>> runs{{kCases[0], ResizeFilter::PilBilinear},
                                                        {kCases[1], ResizeFilter::PilBilinear},
                                                        {kCases[5], ResizeFilter::PilBilinear},
                                                        {kCases[1], ResizeFilter::Linear}};
  for (const auto& [c, f] : runs) {
    {
      auto p = std::make_shared<Profile>(*base);
      p->tiling.levels = parse_levels(c.tiling);
      p->tiling.overlap = c.overlap;
      p->tiling.merge = c.merge;
      p->tiling.blend = c.blend;
      p->input.resize = f;
      const MapDiff m = compare_paths(p, model, rgb, PixelFormat::RGB);
      std::cout << "  INP-Former tiny, " << to_string(f) << ", " << describe(c) << ": max |map diff| " << m.max
                << ", |score diff| " << m.score << "\n";
      EXPECT_LE(m.max, kExactTol) << describe(c);
      EXPECT_LE(m.score, kExactTol) << describe(c);
    }
  }
}

// ---- blur ----

TEST(TensorBlur, MatchesCvGaussianBlur) {
  cv::Mat map(97, 131, CV_32F);
  cv::RNG(5).fill(map, cv::RNG::UNIFORM, 0.0, 1.0);
  for (const auto& [k, sigma] : std::vector<std::pair<int, double>>{{3, 0}, {5, 0}, {7, 1.5}, {15, 4.0}, {31, 4.0}}) {
    cv::Mat want;
    cv::GaussianBlur(map, want, cv::Size(k, k), sigma);
    torch::Tensor t = torch::from_blob(map.data, {map.rows, map.cols}, torch::kFloat32);
    torch::Tensor got = gaussian_blur_tensor(t, k, sigma).contiguous();
    const double d = cv::norm(want, cv::Mat(map.rows, map.cols, CV_32F, got.data_ptr<float>()), cv::NORM_INF);
    std::cout << "  blur " << k << "x" << k << " sigma " << sigma << ": max |diff| " << d << "\n";
    EXPECT_LE(d, kBlurTol) << k;
  }
  EXPECT_THROW(gaussian_blur_tensor(torch::zeros({10, 10}), 4, 0), InputError);
  EXPECT_THROW(gaussian_blur_tensor(torch::zeros({3, 10}), 9, 0), InputError);
}

// ---- cuda-memory-limit and device=cuda errors (the CPU side) ----

TEST(CudaMemoryLimit, ParsesFractionsAndBytesAndRejectsTheRest) {
  EXPECT_TRUE(parse_cuda_memory_limit("").none());
  EXPECT_TRUE(parse_cuda_memory_limit("0").none());
  EXPECT_DOUBLE_EQ(parse_cuda_memory_limit("0.5").fraction, 0.5);
  EXPECT_DOUBLE_EQ(parse_cuda_memory_limit("1").fraction, 1.0);
  EXPECT_DOUBLE_EQ(parse_cuda_memory_limit(" 1.0 ").fraction, 1.0);
  EXPECT_EQ(parse_cuda_memory_limit("6G").bytes, 6ull << 30);
  EXPECT_EQ(parse_cuda_memory_limit("512MiB").bytes, 512ull << 20);
  EXPECT_EQ(parse_cuda_memory_limit("2tb").bytes, 2ull << 40);
  EXPECT_EQ(parse_cuda_memory_limit("6442450944").bytes, 6442450944ull);
  for (const char* bad : {"1.5", "-1", "0.0", "abc", "2X", "0.5G", "100", "1023K", "1.2.3", "99999999999999999T"}) {
    try {
      parse_cuda_memory_limit(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const ModelError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(bad), std::string::npos) << m;
      EXPECT_NE(m.find("(0, 1]"), std::string::npos) << m;  // the ranges are named
      EXPECT_NE(m.find("1 MiB"), std::string::npos) << m;
    }
  }
  // On the CPU the limit changes nothing and says so (advadinfer logs it at INFO level).
  const std::string note = apply_cuda_memory_limit(parse_cuda_memory_limit("0.5"), torch::kCPU);
  EXPECT_NE(note.find("ignored"), std::string::npos) << note;
  EXPECT_EQ(apply_cuda_memory_limit(parse_cuda_memory_limit(""), torch::kCPU), "");
}

TEST(DeviceErrors, CudaWithoutCudaNamesTheCauseAndTheAlternatives) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is usable here";
  for (const char* spec : {"cuda", "cuda:0", "cuda:1"}) {
    try {
      resolve_device(spec);
      ADD_FAILURE() << spec << " accepted without CUDA";
    } catch (const ModelError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(std::string("'") + spec + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("no usable CUDA device"), std::string::npos) << m;
      EXPECT_NE(m.find("device=cpu"), std::string::npos) << m;
      EXPECT_NE(m.find("device=auto"), std::string::npos) << m;
#ifdef ADVAD_WITH_CUDA
      EXPECT_NE(m.find("sees no GPU"), std::string::npos) << m;
#else
      EXPECT_NE(m.find("this advad build has no CUDA"), std::string::npos) << m;
      EXPECT_NE(m.find("-Dtorch_dir"), std::string::npos) << m;
#endif
    }
  }
  // The same through create_model (what advadinfer, advad run/predict and the API call).
  test::TempDir d("cuda_err");
  const Profile p = load_profile(write_demo_package(d.file("demo")));
  ModelOptions mo;
  mo.device = "cuda";
  EXPECT_THROW(create_model(p, mo), ModelError);
  EXPECT_TRUE(resolve_device("auto").is_cpu());
}

}  // namespace
}  // namespace advad
