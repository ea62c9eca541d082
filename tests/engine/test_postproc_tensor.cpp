// Device post-processing (core/postproc_tensor.h) on the CPU against core/postproc's
// OpenCV chain, which stays the CPU default:
//   morphology: dilate/erode/close bit-identical to cv::dilate/erode/morphologyEx for
//               rectangles of odd, even and 1-wide sizes, blobs on every border, odd frames;
//   threshold:  identical masks on identical maps (floats between two thresholds, NaN);
//   blur:       measured against cv::GaussianBlur, and the pixels whose mask differs are
//               counted (each must lie within the blur tolerance of the threshold);
//   chain:      postprocess(AnomalyMap) == postprocess(cv::Mat) for the seed's specs
//               (gate, close + fill + fallback, erode, min area), and end to end on the
//               demo scorer with the tensor path forced.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "core/demo_model.h"
#include "core/error.h"
#include "core/postproc.h"
#include "core/postproc_tensor.h"
#include "core/tensor_frame.h"
#include "engine/frame_scorer.h"
#include "engine/map_health.h"
#include "engine/model_factory.h"
#include "test_support.h"

namespace advad {
namespace {

constexpr double kBlurTol = 1e-5;  // asserted; measured values are printed

torch::Tensor as_tensor(const cv::Mat& m) {
  const auto type = m.depth() == CV_8U ? torch::kUInt8 : torch::kFloat32;
  return torch::from_blob(m.data, {m.rows, m.cols}, type).clone();
}

cv::Mat as_mat(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  const int type = c.scalar_type() == torch::kUInt8 ? CV_8UC1 : CV_32FC1;
  return cv::Mat(static_cast<int>(c.size(0)), static_cast<int>(c.size(1)), type, c.data_ptr()).clone();
}

int differing(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  return cv::countNonZero(a != b);
}

// Sparse random specks and a few blobs, some of them on the frame's borders and corners.
cv::Mat random_mask(int w, int h, uint32_t seed) {
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  cv::RNG rng(seed);
  for (int i = 0; i < w * h / 40; ++i) m.at<uint8_t>(rng.uniform(0, h), rng.uniform(0, w)) = 255;
  for (int i = 0; i < 6; ++i)
    cv::circle(m, {rng.uniform(-3, w + 3), rng.uniform(-3, h + 3)}, rng.uniform(1, 8), cv::Scalar(255), cv::FILLED);
  m.row(0).colRange(0, w / 3).setTo(255);
  m.col(w - 1).rowRange(h / 2, h).setTo(255);
  m.at<uint8_t>(h - 1, 0) = 255;
  return m;
}

// A smooth map with sharp peaks, in model score units around 0..1.
cv::Mat random_map(int w, int h, uint32_t seed) {
  cv::Mat m(h, w, CV_32F);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0.0, 0.4);
  cv::GaussianBlur(m, m, cv::Size(7, 7), 0);
  for (int i = 0; i < 5; ++i)
    cv::circle(m, {rng.uniform(0, w), rng.uniform(0, h)}, rng.uniform(2, 12), cv::Scalar(rng.uniform(0.5, 1.0)),
               cv::FILLED);
  return m;
}

const std::vector<std::pair<int, int>> kKernels{{1, 1}, {1, 5}, {5, 1}, {2, 2},   {2, 3},  {3, 3},  {4, 4},
                                                 {4, 7}, {5, 5}, {6, 2}, {10, 10}, {15, 15}, {31, 7}, {80, 80}};
const std::vector<cv::Size> kMaskSizes{{64, 48}, {37, 53}, {131, 97}, {7, 5}};

TEST(TensorMorphology, RectangleDilateErodeCloseAreBitIdenticalToOpenCv) {
  for (const cv::Size& size : kMaskSizes) {
    const cv::Mat mask = random_mask(size.width, size.height, size.width * 31 + size.height);
    const torch::Tensor t = as_tensor(mask);
    for (const auto& [kw, kh] : kKernels) {
      const cv::Mat k = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kw, kh));
      cv::Mat dil, ero, clo;
      cv::dilate(mask, dil, k);
      cv::erode(mask, ero, k);
      cv::morphologyEx(mask, clo, cv::MORPH_CLOSE, k);
      EXPECT_EQ(differing(as_mat(dilate_rect_tensor(t, kw, kh)), dil), 0) << "dilate " << kw << "x" << kh << " " << size;
      EXPECT_EQ(differing(as_mat(erode_rect_tensor(t, kw, kh)), ero), 0) << "erode " << kw << "x" << kh << " " << size;
      EXPECT_EQ(differing(as_mat(close_rect_tensor(t, kw, kh)), clo), 0) << "close " << kw << "x" << kh << " " << size;
      // core/postproc's own functions (what the CPU chain calls).
      EXPECT_EQ(differing(as_mat(close_rect_tensor(t, kw, kh)), close_mask(mask, kw, kh)), 0);
      EXPECT_EQ(differing(as_mat(erode_rect_tensor(t, kw, kh)), erode_mask(mask, kw, kh)), 0);
    }
  }
  // All white and all black stay so (the border never counts).
  for (int v : {0, 255}) {
    const torch::Tensor full = torch::full({9, 11}, v, torch::kUInt8);
    EXPECT_TRUE(torch::equal(close_rect_tensor(full, 5, 3), full)) << v;
    EXPECT_TRUE(torch::equal(erode_rect_tensor(full, 4, 4), full)) << v;
  }
  const torch::Tensor some = as_tensor(random_mask(20, 10, 1));
  EXPECT_TRUE(torch::equal(close_rect_tensor(some, 0, 5), some));  // 0 = off, as close_mask
  EXPECT_THROW(dilate_rect_tensor(torch::zeros({4, 4}), 3, 3), InputError);  // float, not a mask
}

TEST(TensorThreshold, SameMaskAsThresholdMapOnTheSameMap) {
  cv::Mat map = random_map(131, 97, 3);
  map.at<float>(5, 7) = std::numeric_limits<float>::quiet_NaN();
  map.at<float>(6, 7) = std::numeric_limits<float>::infinity();
  const float v = map.at<float>(50, 60);
  // Thresholds on a map value, between two floats (rounded to float32 by both) and plain ones.
  for (double thr : {static_cast<double>(v), std::nextafter(static_cast<double>(v), 2.0),
                     std::nextafter(static_cast<double>(v), -2.0), 0.1, 0.3, 0.55, 1.0, -1.0}) {
    EXPECT_EQ(differing(as_mat(threshold_tensor(as_tensor(map), thr)), threshold_map(map, thr)), 0) << thr;
  }
  EXPECT_EQ(as_mat(threshold_tensor(as_tensor(map), 0.0)).at<uint8_t>(5, 7), 0);  // NaN never passes
  EXPECT_THROW(threshold_tensor(torch::zeros({4, 4}, torch::kUInt8), 0.5), InputError);
}

// The blurred map against cv::GaussianBlur, and what the float residue does to the mask.
TEST(TensorBlur, BlurredMapAndThresholdedMaskAgainstOpenCv) {
  double worst = 0;
  long near = 0, total = 0;
  for (const cv::Size& size : {cv::Size(131, 97), cv::Size(612, 512), cv::Size(33, 41)}) {
    const cv::Mat map = random_map(size.width, size.height, size.area());
    for (const auto& [k, sigma] : std::vector<std::pair<int, double>>{{3, 0}, {5, 0}, {7, 1.5}, {15, 4.0}, {31, 4.0}}) {
      if (k / 2 >= std::min(size.width, size.height)) continue;
      cv::Mat want;
      cv::GaussianBlur(map, want, cv::Size(k, k), sigma);
      const torch::Tensor got = gaussian_blur_tensor(as_tensor(map), k, sigma);
      const double d = cv::norm(want, as_mat(got), cv::NORM_INF);
      worst = std::max(worst, d);
      EXPECT_LE(d, kBlurTol) << k << " " << size;
      for (double thr : {0.2, 0.25, 0.4, 0.6}) {
        const cv::Mat a = threshold_map(want, thr), b = as_mat(threshold_tensor(got, thr));
        const cv::Mat diff = a != b;
        total += static_cast<long>(diff.total());
        // A pixel may differ only where the OpenCV value is within the blur tolerance of the threshold.
        for (int y = 0; y < diff.rows; ++y)
          for (int x = 0; x < diff.cols; ++x)
            if (diff.at<uint8_t>(y, x)) {
              ++near;
              EXPECT_LE(std::abs(want.at<float>(y, x) - thr), kBlurTol) << k << " at " << x << "," << y;
            }
      }
    }
  }
  std::cout << "  blur: max |tensor - cv::GaussianBlur| " << worst << "; mask pixels differing after the threshold: "
            << near << " of " << total << "\n";
  EXPECT_LE(near, total / 100000 + 2);
}

// The chain on a stitched map: device (forced, CPU tensors) vs postprocess(cv::Mat).
void expect_same_detection(const Detection& a, const Detection& b, const std::string& what) {
  EXPECT_EQ(differing(a.mask, b.mask), 0) << what;
  ASSERT_EQ(a.regions.size(), b.regions.size()) << what;
  for (size_t i = 0; i < a.regions.size(); ++i) {
    EXPECT_EQ(a.regions[i].box, b.regions[i].box) << what;
    EXPECT_EQ(a.regions[i].area, b.regions[i].area) << what;
    EXPECT_EQ(a.regions[i].contour, b.regions[i].contour) << what;
    EXPECT_NEAR(a.regions[i].max_score, b.regions[i].max_score, kBlurTol) << what;
    EXPECT_NEAR(a.regions[i].mean_score, b.regions[i].mean_score, kBlurTol) << what;
  }
  EXPECT_EQ(a.anomalous, b.anomalous) << what;
  EXPECT_NEAR(a.score, b.score, kBlurTol) << what;
  EXPECT_EQ(a.image_score, b.image_score) << what;
}

AnomalyMap device_map_of(const cv::Mat& map, float score) {
  AnomalyMap am;
  am.map = map.clone();
  am.device_map = as_tensor(map);
  am.score = score;
  return am;
}

std::vector<std::pair<std::string, PostprocSpec>> chain_specs() {
  std::vector<std::pair<std::string, PostprocSpec>> out;
  PostprocSpec s;
  out.push_back({"nothing", s});
  s.close_w = s.close_h = 10;
  s.fill_holes = true;
  out.push_back({"seed 10x10 close + fill", s});
  s.close_w = s.close_h = 80;
  out.push_back({"seed 80x80 close + fill", s});
  PostprocSpec e;
  e.blur_ksize = 5;
  e.close_w = 4, e.close_h = 7;
  e.erode_w = e.erode_h = 3;
  e.min_area = 16;
  out.push_back({"blur 5, close 4x7, erode 3 on the device, min area", e});
  e.fill_holes = true;
  e.erode_w = e.erode_h = 15;
  out.push_back({"blur 5, close, fill, erode 15 on the CPU", e});
  PostprocSpec g;
  g.foreground_gate = true;
  g.close_w = g.close_h = 10;
  g.fill_holes = true;
  g.blur_ksize = 3;
  out.push_back({"seed mixed split: gate, close, fill", g});
  return out;
}

TEST(TensorPostproc, ChainEqualsTheOpenCvChain) {
  const cv::Size size(173, 131);
  const cv::Mat frame = make_synthetic_frame(size.width, size.height, true, 7);
  int on_device = 0;
  for (const auto& [name, spec] : chain_specs()) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const cv::Mat map = random_map(size.width, size.height, seed);
      for (double thr : {0.3, 0.5, 0.7, 5.0}) {
        const AnomalyMap am = device_map_of(map, 0.25f);
        PostprocTransfers tr;
        const Detection dev = postprocess(am, thr, spec, frame, &tr);
        const Detection cpu = postprocess(map, 0.25f, thr, spec, frame);
        expect_same_detection(dev, cpu, name + " thr " + std::to_string(thr));
        EXPECT_TRUE(tr.on_device) << name;
        on_device += tr.on_device;
        if (thr == 5.0) {
          EXPECT_EQ(tr.bytes_down, 0) << name;  // nothing passes: two scalars only
        }
        if (thr == 0.5 && !cpu.regions.empty()) {
          EXPECT_GT(tr.bytes_down, 0) << name;
        }
      }
    }
  }
  EXPECT_GT(on_device, 0);
}

TEST(TensorPostproc, FillFallbackAndFallbacksToTheCpuChain) {
  const cv::Mat map = random_map(90, 70, 11);
  PostprocSpec s;
  s.close_w = s.close_h = 10;
  s.fill_holes = true;
  // A threshold below the whole map: the fill is all white, the fallback keeps the thresholded mask.
  PostprocTransfers tr;
  const Detection dev = postprocess(device_map_of(map, 0.f), -1.0, s, cv::Mat(), &tr);
  expect_same_detection(dev, postprocess(map, 0.f, -1.0, s), "fallback");
  EXPECT_EQ(tr.bytes_down, 2.0 * map.total());  // the closed mask, then the thresholded one
  // A NaN in the map and a blur wider than the map: the CPU chain decides.
  cv::Mat nan_map = map.clone();
  nan_map.at<float>(3, 3) = std::numeric_limits<float>::quiet_NaN();
  expect_same_detection(postprocess(device_map_of(nan_map, 0.f), 0.5, s, cv::Mat(), &tr),
                        postprocess(nan_map, 0.f, 0.5, s), "nan");
  EXPECT_FALSE(tr.on_device);
  PostprocSpec wide = s;
  wide.blur_ksize = 151;  // a 75-pixel reflection on a 70-row map
  expect_same_detection(postprocess(device_map_of(map, 0.f), 0.5, wide, cv::Mat(), &tr),
                        postprocess(map, 0.f, 0.5, wide), "wide blur");
  EXPECT_FALSE(tr.on_device);
  // The gate's errors as the CPU chain's.
  PostprocSpec g;
  g.foreground_gate = true;
  EXPECT_THROW(postprocess(device_map_of(map, 0.f), 0.5, g), InputError);
  EXPECT_THROW(postprocess(device_map_of(map, 0.f), 0.5, g, cv::Mat(10, 10, CV_8UC3)), InputError);
  // Without a device map: exactly the CPU chain.
  AnomalyMap plain;
  plain.map = map;
  expect_same_detection(postprocess(plain, 0.5, s, cv::Mat(), &tr), postprocess(map, 0.f, 0.5, s), "plain");
  EXPECT_FALSE(tr.on_device);
}

// The demo package (96 px tiles, a quarter overlap) scored twice: by the OpenCV
// path and by the tensor path forced on the CPU, one model shared.
struct DemoOnBothPaths {
  test::TempDir dir;
  std::shared_ptr<Profile> profile;
  std::shared_ptr<Model> model;
  std::unique_ptr<FrameScorer> opencv, tensor;

  explicit DemoOnBothPaths(const std::string& tag) : dir(tag) {
    DemoOptions o;
    o.input_size = 96;
    o.overlap = 0.25;
    profile = std::make_shared<Profile>(load_profile(write_demo_package(dir.file("demo"), o)));
    ModelOptions mo;
    mo.device = "cpu";
    mo.threads = 2;
    model = create_model(*profile, mo);
    FrameScorerOptions cv_opt, t_opt;
    cv_opt.path = FramePath::OpenCV;
    t_opt.path = FramePath::Tensor;
    opencv = std::make_unique<FrameScorer>(profile, model, 0, cv_opt);
    tensor = std::make_unique<FrameScorer>(profile, model, 0, t_opt);
  }
};

// End to end on the demo scorer: the tensor path (forced on the CPU) with its device
// post-processing against the OpenCV path with core/postproc, frames with and without a defect.
TEST(TensorPostproc, DemoFramesGiveTheSameMasksAndRegions) {
  DemoOnBothPaths demo("postproc_tensor");
  const auto& profile = demo.profile;
  FrameScorer &a = *demo.opencv, &b = *demo.tensor;
  std::vector<std::pair<std::string, PostprocSpec>> specs{{"profile", profile->post}};
  PostprocSpec seed = profile->post;
  seed.blur_ksize = 5;
  seed.close_w = seed.close_h = 10;
  seed.fill_holes = true;
  specs.push_back({"blur 5 + seed close/fill", seed});
  int defects = 0;
  for (uint32_t i = 0; i < 6; ++i) {
    const cv::Mat frame = make_synthetic_frame(320, 240, i % 2 == 1, 100 + i);
    const TileLayout layout = make_tile_layout(frame.cols, frame.rows, profile->tiling);
    const AnomalyMap ma = a.score(frame, PixelFormat::RGB, layout), mb = b.score(frame, PixelFormat::RGB, layout);
    ASSERT_FALSE(ma.device_map.defined());
    ASSERT_TRUE(mb.device_map.defined());
    for (const auto& [name, spec] : specs) {
      PostprocTransfers tr;
      const Detection da = postprocess(ma, profile->threshold, spec, frame);
      const Detection db = postprocess(mb, profile->threshold, spec, frame, &tr);
      EXPECT_TRUE(tr.on_device);
      expect_same_detection(db, da, name + " frame " + std::to_string(i));
      defects += da.anomalous;
    }
  }
  EXPECT_GT(defects, 0);  // the comparison covered frames with regions
}

// What a frame costs in transfers on the tensor path (forced on the CPU): a frame
// without a defect that nobody draws downloads scalars only (map health, then
// post-processing); the float map comes down when first asked for, equal to the
// OpenCV path's, and once for all copies of the map.
TEST(TensorPostproc, NoDefectNoHeatmapDownloadsScalarsOnly) {
  DemoOnBothPaths demo("postproc_tensor_bytes");
  const auto& profile = demo.profile;
  FrameScorer &a = *demo.opencv, &b = *demo.tensor;
  const cv::Mat frame = make_synthetic_frame(320, 240, false, 100);
  const TileLayout layout = make_tile_layout(frame.cols, frame.rows, profile->tiling);
  const AnomalyMap ma = a.score(frame, PixelFormat::RGB, layout), mb = b.score(frame, PixelFormat::RGB, layout);
  ASSERT_TRUE(mb.device_map.defined());
  EXPECT_TRUE(mb.map.empty());

  const MapHealth ha = check_map(ma, frame.cols, frame.rows), hb = check_map(mb, frame.cols, frame.rows);
  EXPECT_TRUE(hb.ok());
  EXPECT_EQ(hb.constant, ha.constant);
  EXPECT_EQ(hb.bytes_down, 12);  // all finite, min, max
  PostprocTransfers tr;
  const Detection da = postprocess(ma, profile->threshold, profile->post, frame);
  const Detection db = postprocess(mb, profile->threshold, profile->post, frame, &tr);
  ASSERT_FALSE(da.anomalous);
  expect_same_detection(db, da, "no defect");
  EXPECT_TRUE(tr.on_device);
  EXPECT_EQ(tr.bytes_down, 0);     // neither the mask nor a float map
  EXPECT_EQ(tr.scalar_bytes, 12);  // map maximum, any pixel left, all finite
  EXPECT_EQ(mb.host_bytes_down(), 0);
  double cv_max = 0;
  cv::minMaxLoc(ma.map, nullptr, &cv_max);
  EXPECT_LE(std::abs(mb.max_value() - cv_max), 1e-6);  // the overlay label's and the JSON's score, a scalar
  EXPECT_EQ(mb.host_bytes_down(), 0);

  // A reader of pixels (heatmap, advad predict, the API) gets the map the OpenCV path gives.
  const AnomalyMap copy = mb;  // the buffers' shared_ptr copies: one download for all
  const cv::Mat& host = copy.host_map();
  ASSERT_EQ(host.size(), ma.map.size());
  EXPECT_LE(cv::norm(host, ma.map, cv::NORM_INF), 1e-6);
  const double frame_map_bytes = 4.0 * frame.cols * frame.rows;
  EXPECT_EQ(mb.host_bytes_down(), frame_map_bytes);
  EXPECT_EQ(mb.host_map().data, host.data);
  EXPECT_EQ(mb.host_bytes_down(), frame_map_bytes);
}

}  // namespace
}  // namespace advad
