// CPR pseudo-anomaly synthesis, the generators: Perlin noise, perlin and
// cut-paste samples, the mode that picks both. The [train] synthesis keys, the
// source loader and `advad synth` are in test_cpr_synth_inputs.cpp (the same
// test executable).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "cpr_synth_helpers.h"
#include "test_support.h"
#include "core/error.h"
#include "core/profile.h"
#include "cpr/synth/perlin_noise.h"
#include "cpr/synth/synth.h"
#include "cpr/synth/internal.h"

using namespace advad;
using namespace advad::cpr;
using namespace cprsynth;
namespace fs = std::filesystem;

namespace {

double mean_abs_gradient(const cv::Mat& n) {
  double s = 0;
  for (int y = 0; y < n.rows; ++y)
    for (int x = 1; x < n.cols; ++x) s += std::abs(n.at<float>(y, x) - n.at<float>(y, x - 1));
  return s / (n.rows * (n.cols - 1));
}

cv::Mat changed_pixels(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  std::vector<cv::Mat> ch;
  cv::split(d, ch);
  cv::Mat any = (ch[0] > 0) | (ch[1] > 0) | (ch[2] > 0);
  return any;
}

SynthSettings perlin_settings(int size, double ratio, bool object) {
  SynthSettings s;
  s.mode = SynthMode::Perlin;
  s.size = size;
  s.anomaly_ratio = ratio;
  s.object = object;
  return s;
}

// One library of a single patch with the given scale range.
SynthSources one_patch(const cv::Mat& bgra, std::pair<double, double> scale) {
  SynthSources src;
  src.libraries.push_back({"lib", {DefectPatch{bgra}}, scale});
  return src;
}

}  // namespace

// ---------------------------------------------------------------- Perlin noise

TEST(CprPerlin, DeterministicForASeedAndBounded) {
  std::mt19937_64 a(7), b(7), c(8);
  const cv::Mat na = perlin_noise_2d(96, 96, 4, 8, a), nb = perlin_noise_2d(96, 96, 4, 8, b),
                nc = perlin_noise_2d(96, 96, 4, 8, c);
  ASSERT_EQ(na.type(), CV_32F);
  EXPECT_EQ(cv::norm(na, nb, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(na, nc, cv::NORM_INF), 0.1);
  // sqrt(2) x 2-D Perlin noise lies in [-1, 1]; it uses a good part of that range.
  for (int res : {1, 2, 8, 32}) {
    std::mt19937_64 r(static_cast<uint64_t>(res));
    const cv::Mat n = perlin_noise_2d(128, 128, res, res, r);
    double lo = 0, hi = 0;
    cv::minMaxLoc(n, &lo, &hi);
    EXPECT_GE(lo, -1.0 - 1e-5) << res;
    EXPECT_LE(hi, 1.0 + 1e-5) << res;
    EXPECT_GT(hi - lo, 0.4) << res;
  }
  // Zero on the lattice points: every cell corner (multiples of 128/8 = 16 pixels).
  std::mt19937_64 r(3);
  const cv::Mat n = perlin_noise_2d(128, 128, 8, 8, r);
  for (int y = 0; y < 128; y += 16)
    for (int x = 0; x < 128; x += 16) EXPECT_NEAR(n.at<float>(y, x), 0.0f, 1e-6f);
}

TEST(CprPerlin, ResolutionSetsTheFrequency) {
  double g1 = 0, g16 = 0;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    std::mt19937_64 a(seed), b(seed + 100);
    g1 += mean_abs_gradient(perlin_noise_2d(256, 256, 1, 1, a));
    g16 += mean_abs_gradient(perlin_noise_2d(256, 256, 16, 16, b));
  }
  EXPECT_GT(g16, 6.0 * g1) << g1 << " vs " << g16;  // ~16x in expectation
  // Per axis: res (1, 16) varies fast along the columns, slowly along the rows.
  std::mt19937_64 r(5);
  const cv::Mat n = perlin_noise_2d(256, 256, 1, 16, r);
  cv::Mat t = n.t();
  EXPECT_GT(mean_abs_gradient(n), 4.0 * mean_abs_gradient(t));
}

TEST(CprPerlin, AnyShapeIncludingResolutionsThatDoNotDivideIt) {
  std::mt19937_64 r(11);
  const cv::Mat n = perlin_noise_2d(100, 70, 32, 8, r);
  ASSERT_EQ(n.rows, 100);
  ASSERT_EQ(n.cols, 70);
  double lo = 0, hi = 0;
  cv::minMaxLoc(n, &lo, &hi);
  EXPECT_GE(lo, -1.0 - 1e-5);
  EXPECT_LE(hi, 1.0 + 1e-5);
  EXPECT_TRUE(cv::checkRange(n));
  // Continuous: neighbouring pixels never jump (cells are >= 4 pixels wide).
  for (int y = 1; y < n.rows; ++y)
    for (int x = 1; x < n.cols; ++x) {
      ASSERT_LT(std::abs(n.at<float>(y, x) - n.at<float>(y, x - 1)), 0.75f) << y << "," << x;
      ASSERT_LT(std::abs(n.at<float>(y, x) - n.at<float>(y - 1, x)), 0.75f) << y << "," << x;
    }
  EXPECT_THROW(perlin_noise_2d(10, 10, 0, 1, r), std::invalid_argument);
}

// ---------------------------------------------------------------- perlin samples

TEST(CprSynthPerlin, AnomalousSamplesChangeExactlyInsideTheMask) {
  const int size = 128;
  const cv::Mat img = smooth_image(size);
  SynthSources textures;
  textures.textures = {noise_texture(size, 1), noise_texture(size, 2)};
  const SynthSources none;
  for (int seed = 0; seed < 12; ++seed) {
    // Texture category with textures (always a texture source), object without (structure source).
    const bool object = seed % 2 == 1;
    const auto settings = perlin_settings(size, 1.0, object);
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    const SynthSample s = synthesize(img, cv::Mat(), settings, object ? none : textures, rng);
    ASSERT_EQ(s.image.size(), cv::Size(size, size));
    ASSERT_EQ(s.image.type(), CV_8UC3);
    ASSERT_EQ(s.mask.type(), CV_8U);
    EXPECT_EQ(cv::countNonZero((s.mask != 0) & (s.mask != 255)), 0) << "mask is 0/255";
    const int area = cv::countNonZero(s.mask);
    ASSERT_GT(area, 0) << seed;
    const cv::Mat changed = changed_pixels(img, s.image);
    EXPECT_EQ(cv::countNonZero(changed & ~s.mask), 0) << "pixels outside the mask changed, seed " << seed;
    const int changed_inside = cv::countNonZero(changed & s.mask);
    EXPECT_GT(changed_inside, (object ? 0.5 : 0.9) * area) << seed;
  }
}

TEST(CprSynthPerlin, NormalSamplesAt1MinusAnomalyRatio) {
  const int size = 64;
  const cv::Mat img = smooth_image(size);
  const SynthSources none;
  std::mt19937_64 rng(2024);
  int normal = 0;
  for (int i = 0; i < 200; ++i) {
    const SynthSample s = synthesize(img, cv::Mat(), perlin_settings(size, 0.7, true), none, rng);
    if (cv::countNonZero(s.mask) == 0) {
      ++normal;
      EXPECT_EQ(cv::norm(s.image, img, cv::NORM_INF), 0.0) << "a normal sample is the image";
    }
  }
  // Binomial(200, 0.3): mean 60, sd 6.5; +-4 sd.
  EXPECT_GE(normal, 34);
  EXPECT_LE(normal, 86);
  for (double ratio : {0.0, 1.0}) {
    int n0 = 0;
    for (int i = 0; i < 20; ++i)
      n0 += cv::countNonZero(synthesize(img, cv::Mat(), perlin_settings(size, ratio, true), none, rng).mask) == 0;
    EXPECT_EQ(n0, ratio == 0.0 ? 20 : 0) << ratio;
  }
}

TEST(CprSynthPerlin, SmallAndOffForegroundComponentsAreRemoved) {
  // 128 x 128: 0.1 % is 16.4 pixels.
  cv::Mat mask = cv::Mat::zeros(128, 128, CV_8U);
  mask(cv::Rect(5, 5, 4, 4)).setTo(255);      // 16 px: too small
  mask(cv::Rect(40, 5, 5, 4)).setTo(255);     // 20 px: kept
  mask(cv::Rect(80, 80, 10, 10)).setTo(255);  // 100 px but off the foreground
  mask(cv::Rect(20, 60, 3, 3)).setTo(255);    // 9 px diagonal-joined to the next one (8-connectivity)
  mask(cv::Rect(23, 63, 3, 3)).setTo(255);    // together 18 px: kept
  cv::Mat fg = cv::Mat::ones(128, 128, CV_32F);
  fg(cv::Rect(64, 64, 64, 64)).setTo(0.5f);  // not > 0.5
  const double min_area = synth_detail::kMinAreaRatio * 128 * 128;
  EXPECT_EQ(synth_detail::filter_mask_components(mask, fg, min_area), 2);
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(5, 5, 4, 4))), 0);
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(40, 5, 5, 4))), 20);
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(80, 80, 10, 10))), 0);
  EXPECT_EQ(cv::countNonZero(mask), 38);

  // Every component of generated masks is at least 0.1 % of the image.
  const cv::Mat img = smooth_image(128);
  std::mt19937_64 rng(9);
  for (int i = 0; i < 30; ++i) {
    const SynthSample s = synthesize(img, cv::Mat(), perlin_settings(128, 1.0, true), SynthSources(), rng);
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(s.mask, labels, stats, centroids, 8);
    ASSERT_GT(n, 1);
    for (int c = 1; c < n; ++c) EXPECT_GE(stats.at<int>(c, cv::CC_STAT_AREA), min_area) << i;
  }
}

TEST(CprSynthPerlin, ComponentsNeedForeground) {
  // Foreground 0 on the left half: no component lies on the left half alone
  // (official rule: a component is kept when any of its pixels has fg > 0.5).
  const int size = 128;
  cv::Mat fg = cv::Mat::ones(40, 40, CV_32F);  // any size; resized (nearest) to the synthesis size
  fg(cv::Rect(0, 0, 20, 40)).setTo(0.0f);
  const cv::Mat img = smooth_image(size);
  std::mt19937_64 rng(77);
  long left = 0, total = 0;
  for (int i = 0; i < 30; ++i) {
    const SynthSample s = synthesize(img, fg, perlin_settings(size, 1.0, true), SynthSources(), rng);
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(s.mask, labels, stats, centroids, 8);
    ASSERT_GT(n, 1) << i;
    for (int c = 1; c < n; ++c) {
      const int right_edge = stats.at<int>(c, cv::CC_STAT_LEFT) + stats.at<int>(c, cv::CC_STAT_WIDTH);
      EXPECT_GT(right_edge, size / 2) << "component " << c << " of sample " << i << " is on the left half only";
    }
    left += cv::countNonZero(s.mask(cv::Rect(0, 0, size / 2, size)));
    total += cv::countNonZero(s.mask);
  }
  EXPECT_LT(left, total / 2) << "most defect pixels are on the foreground";
  // A foreground that is nowhere > 0.5 never hangs: the fallback blob.
  std::mt19937_64 r2(1);
  const SynthSample s = synthesize(img, cv::Mat::zeros(size, size, CV_32F), perlin_settings(size, 1.0, true),
                                   SynthSources(), r2);
  EXPECT_GT(cv::countNonZero(s.mask), 0);
}

TEST(CprSynthPerlin, StructureSourceShufflesTiles) {
  cv::Mat img = smooth_image(128);
  std::mt19937_64 rng(4);
  const cv::Mat src = synth_detail::structure_source(img, rng);
  ASSERT_EQ(src.size(), img.size());
  ASSERT_EQ(src.type(), CV_8UC3);
  EXPECT_GT(cv::norm(src, img, cv::NORM_L1) / img.total(), 5.0);
}

// ---------------------------------------------------------------- cut-paste

TEST(CprSynthCutPaste, MaskWhereAlphaAndForegroundBlendBySoftForeground) {
  const int size = 128;
  const cv::Mat img(size, size, CV_8UC3, cv::Scalar(100, 100, 100));
  // Left half opaque red, right half green with alpha 0 (must never show).
  cv::Mat patch(40, 40, CV_8UC4, cv::Scalar(0, 255, 0, 0));
  patch(cv::Rect(0, 0, 20, 40)).setTo(cv::Scalar(0, 0, 255, 255));
  // Foreground: 1 in the centre, 0.6 around it, 0.3 elsewhere.
  cv::Mat fg(size, size, CV_32F, cv::Scalar(0.3f));
  fg(cv::Rect(34, 34, 60, 60)).setTo(0.6f);
  fg(cv::Rect(49, 49, 30, 30)).setTo(1.0f);
  const SynthSources src = one_patch(patch, {0.5, 0.5});
  SynthSettings st;
  st.mode = SynthMode::CutPaste;
  st.size = size;
  const double half_diag = 20 * std::sqrt(2.0) / 2 + 2;
  for (int seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    const SynthSample s = synthesize(img, fg, st, src, rng);
    const cv::Mat changed = changed_pixels(img, s.image);
    ASSERT_GT(cv::countNonZero(s.mask), 0) << seed;
    EXPECT_EQ(cv::countNonZero((s.mask != 0) & (s.mask != 255)), 0);
    // Changed pixels (alpha > 0) are masked exactly where fg > 0.45.
    const cv::Mat fg_hi = fg > 0.45f;
    EXPECT_EQ(cv::countNonZero(s.mask & ~changed), 0) << seed;
    EXPECT_EQ(cv::countNonZero(s.mask & ~fg_hi), 0) << seed;
    EXPECT_EQ(cv::countNonZero(changed & fg_hi & ~s.mask), 0) << seed;
    // Every change is inside the pasted (scaled, rotated) patch around a centre with fg >= 0.8.
    const cv::Rect box = cv::boundingRect(changed);
    EXPECT_LE(box.width, 2 * half_diag) << seed;
    EXPECT_LE(box.height, 2 * half_diag) << seed;
    EXPECT_GE(box.x + box.width / 2.0, 49 - half_diag);
    EXPECT_LE(box.x + box.width / 2.0, 79 + half_diag);
    // Blend weight = soft foreground; the alpha-0 green never appears.
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        if (!changed.at<uint8_t>(y, x)) continue;
        const float w = fg.at<float>(y, x);
        const cv::Vec3b px = s.image.at<cv::Vec3b>(y, x);
        ASSERT_NEAR(px[2], w * 255 + (1 - w) * 100, 1.0) << seed << " " << y << "," << x;
        ASSERT_NEAR(px[1], (1 - w) * 100, 1.0) << "green leaked at " << y << "," << x;
        ASSERT_NEAR(px[0], (1 - w) * 100, 1.0);
      }
  }
}

TEST(CprSynthCutPaste, ScaleRangeSetsTheMaskArea) {
  const int size = 256;
  const cv::Mat img(size, size, CV_8UC3, cv::Scalar(90, 90, 90));
  const cv::Mat patch(30, 30, CV_8UC4, cv::Scalar(200, 10, 10, 255));
  cv::Mat fg(size, size, CV_32F, cv::Scalar(0.6f));
  fg(cv::Rect(100, 100, 56, 56)).setTo(1.0f);  // centres well away from the borders: nothing is clipped
  SynthSettings st;
  st.mode = SynthMode::CutPaste;
  st.size = size;
  for (auto range : {std::make_pair(0.3, 0.6), std::make_pair(1.5, 2.0)}) {
    const SynthSources src = one_patch(patch, range);
    const double lo = std::pow(std::round(30 * range.first), 2) * 0.8;
    const double hi = std::pow(std::round(30 * range.second), 2) * 1.25;
    std::mt19937_64 rng(13);
    double min_area = 1e18, max_area = 0;
    for (int i = 0; i < 30; ++i) {
      const double area = cv::countNonZero(synthesize(img, fg, st, src, rng).mask);
      EXPECT_GE(area, lo) << range.first << "-" << range.second;
      EXPECT_LE(area, hi) << range.first << "-" << range.second;
      min_area = std::min(min_area, area);
      max_area = std::max(max_area, area);
    }
    EXPECT_GT(max_area, 1.5 * min_area) << "the scale is drawn from the range, not fixed";
  }
}

TEST(CprSynthCutPaste, DeterministicForASeed) {
  const cv::Mat img = smooth_image(96);
  cv::Mat patch(24, 16, CV_8UC4, cv::Scalar(10, 200, 30, 255));
  cv::circle(patch, {8, 12}, 4, cv::Scalar(0, 0, 0, 0), cv::FILLED);
  SynthSources src = one_patch(patch, {0.5, 1.5});
  src.textures = {noise_texture(96, 5)};
  SynthSettings st;
  st.size = 96;
  for (SynthMode mode : {SynthMode::CutPaste, SynthMode::Perlin, SynthMode::Both}) {
    st.mode = mode;
    std::mt19937_64 a(42), b(42), c(43);
    const SynthSample sa = synthesize(img, cv::Mat(), st, src, a), sb = synthesize(img, cv::Mat(), st, src, b);
    const SynthSample sc = synthesize(img, cv::Mat(), st, src, c);
    EXPECT_EQ(cv::norm(sa.image, sb.image, cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(sa.mask, sb.mask, cv::NORM_INF), 0.0);
    EXPECT_GT(cv::norm(sa.image, sc.image, cv::NORM_L1), 0.0);
  }
}

TEST(CprSynth, BothPicksEachGeneratorHalfTheTimeAndResizes) {
  // anomaly_ratio 0: perlin samples stay normal, cut-paste ones always get a patch.
  const cv::Mat img = smooth_image(50);  // not the synthesis size: resized
  const SynthSources src = one_patch(cv::Mat(8, 8, CV_8UC4, cv::Scalar(0, 0, 0, 255)), {1.0, 1.0});
  SynthSettings st;
  st.mode = SynthMode::Both;
  st.size = 64;
  st.anomaly_ratio = 0.0;
  std::mt19937_64 rng(1);
  int with_patch = 0;
  for (int i = 0; i < 100; ++i) {
    const SynthSample s = synthesize(img, cv::Mat(), st, src, rng);
    ASSERT_EQ(s.image.size(), cv::Size(64, 64));
    ASSERT_EQ(s.mask.size(), cv::Size(64, 64));
    with_patch += cv::countNonZero(s.mask) > 0;
  }
  EXPECT_GE(with_patch, 30);  // Binomial(100, 0.5) +-4 sd
  EXPECT_LE(with_patch, 70);
  st.mode = SynthMode::CutPaste;
  EXPECT_THROW(synthesize(img, cv::Mat(), st, SynthSources(), rng), InputError);
}
