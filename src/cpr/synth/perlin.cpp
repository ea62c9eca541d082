// Perlin pseudo-anomalies (official CPR generate_synthetic_data.py, re-written).
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "cpr/synth/perlin_noise.h"
#include "cpr/synth/internal.h"

namespace advad::cpr::synth_detail {
namespace {

// Rotation about the image centre, bilinear, constant 0 outside (imgaug Affine defaults).
cv::Mat rotate_same_size(const cv::Mat& m, double degrees) {
  const cv::Point2f centre(static_cast<float>(m.cols - 1) * 0.5f, static_cast<float>(m.rows - 1) * 0.5f);
  cv::Mat out;
  cv::warpAffine(m, out, cv::getRotationMatrix2D(centre, degrees, 1.0), m.size(), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return out;
}

cv::Mat apply_lut_per_channel(const cv::Mat& img, const std::array<std::array<uint8_t, 256>, 3>& luts) {
  std::vector<cv::Mat> ch;
  cv::split(img, ch);
  for (int c = 0; c < 3; ++c) {
    cv::Mat lut(1, 256, CV_8U);
    std::copy(luts[static_cast<size_t>(c)].begin(), luts[static_cast<size_t>(c)].end(), lut.ptr<uint8_t>());
    cv::LUT(ch[static_cast<size_t>(c)], lut, ch[static_cast<size_t>(c)]);
  }
  cv::Mat out;
  cv::merge(ch, out);
  return out;
}

cv::Mat apply_lut(const cv::Mat& img, const std::array<uint8_t, 256>& lut) {
  return apply_lut_per_channel(img, {lut, lut, lut});
}

// Gamma contrast 255 * (x/255)^g with g ~ U(0.5, 2) drawn per channel.
cv::Mat op_gamma(const cv::Mat& img, std::mt19937_64& rng) {
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (auto& lut : luts) {
    const double g = uniform(rng, 0.5, 2.0);
    for (int i = 0; i < 256; ++i) lut[static_cast<size_t>(i)] = cv::saturate_cast<uint8_t>(255.0 * std::pow(i / 255.0, g));
  }
  return apply_lut_per_channel(img, luts);
}

// Brightness: luma (Y of YCrCb) * U(0.8, 1.2) + U(-30, 30).
cv::Mat op_brightness(const cv::Mat& img, std::mt19937_64& rng) {
  const double mul = uniform(rng, 0.8, 1.2), add = uniform(rng, -30.0, 30.0);
  cv::Mat ycc;
  cv::cvtColor(img, ycc, cv::COLOR_BGR2YCrCb);
  std::vector<cv::Mat> ch;
  cv::split(ycc, ch);
  ch[0].convertTo(ch[0], CV_8U, mul, add);
  cv::merge(ch, ycc);
  cv::Mat out;
  cv::cvtColor(ycc, out, cv::COLOR_YCrCb2BGR);
  return out;
}

// PIL-style sharpness: blend between the 3x3 smoothed image (kernel 1 1 1 / 1 5 1 / 1 1 1, /13,
// border pixels kept) and the image, factor ~ U(0, 2) (0 = smooth, 1 = same, 2 = sharper).
cv::Mat op_sharpness(const cv::Mat& img, std::mt19937_64& rng) {
  const double factor = uniform(rng, 0.0, 2.0);
  cv::Mat kernel = (cv::Mat_<float>(3, 3) << 1, 1, 1, 1, 5, 1, 1, 1, 1) / 13.0f;
  cv::Mat smooth;
  cv::filter2D(img, smooth, -1, kernel, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  if (img.rows > 2 && img.cols > 2) {
    // PIL leaves the one-pixel border as it was.
    cv::Mat keep = img.clone();
    smooth(cv::Rect(1, 1, img.cols - 2, img.rows - 2)).copyTo(keep(cv::Rect(1, 1, img.cols - 2, img.rows - 2)));
    smooth = keep;
  } else {
    smooth = img.clone();
  }
  cv::Mat out;
  cv::addWeighted(img, factor, smooth, 1.0 - factor, 0.0, out);
  return out;
}

// Hue and saturation shifts, each an independent U(-50, 50) on imgaug's 0..255 scale.
cv::Mat op_hue_saturation(const cv::Mat& img, std::mt19937_64& rng) {
  const int dh = uniform_int(rng, -50, 50), ds = uniform_int(rng, -50, 50);
  const int hue_shift = static_cast<int>(std::lround(dh * 180.0 / 255.0));
  cv::Mat hsv;
  cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);
  for (int y = 0; y < hsv.rows; ++y) {
    auto* p = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      p[x][0] = static_cast<uint8_t>(((p[x][0] + hue_shift) % 180 + 180) % 180);
      p[x][1] = cv::saturate_cast<uint8_t>(p[x][1] + ds);
    }
  }
  cv::Mat out;
  cv::cvtColor(hsv, out, cv::COLOR_HSV2BGR);
  return out;
}

// With p 0.5 invert the values >= a threshold ~ U{32..128}; otherwise unchanged.
cv::Mat op_solarize(const cv::Mat& img, std::mt19937_64& rng) {
  const bool apply = uniform(rng, 0.0, 1.0) < 0.5;
  const int threshold = uniform_int(rng, 32, 128);
  if (!apply) return img.clone();
  std::array<uint8_t, 256> lut{};
  for (int i = 0; i < 256; ++i) lut[static_cast<size_t>(i)] = static_cast<uint8_t>(i >= threshold ? 255 - i : i);
  return apply_lut(img, lut);
}

// Keep the top b bits, b ~ U{1..8}.
cv::Mat op_posterize(const cv::Mat& img, std::mt19937_64& rng) {
  const int bits = uniform_int(rng, 1, 8);
  const int keep = (0xFF << (8 - bits)) & 0xFF;
  std::array<uint8_t, 256> lut{};
  for (int i = 0; i < 256; ++i) lut[static_cast<size_t>(i)] = static_cast<uint8_t>(i & keep);
  return apply_lut(img, lut);
}

cv::Mat op_invert(const cv::Mat& img, std::mt19937_64&) {
  cv::Mat out;
  cv::bitwise_not(img, out);
  return out;
}

// Per-channel autocontrast cutting U(0, 20) % of the pixels from each end of the histogram.
cv::Mat op_autocontrast(const cv::Mat& img, std::mt19937_64& rng) {
  const double cutoff = uniform(rng, 0.0, 20.0) / 100.0;
  std::vector<cv::Mat> ch;
  cv::split(img, ch);
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (size_t c = 0; c < 3; ++c) {
    std::array<double, 256> hist{};
    for (int y = 0; y < ch[c].rows; ++y) {
      const uint8_t* p = ch[c].ptr<uint8_t>(y);
      for (int x = 0; x < ch[c].cols; ++x) hist[p[x]] += 1;
    }
    const double n = static_cast<double>(ch[c].total()), cut = n * cutoff;
    int lo = 0, hi = 255;
    for (double acc = 0; lo < 255; ++lo) {
      acc += hist[static_cast<size_t>(lo)];
      if (acc > cut) break;
    }
    for (double acc = 0; hi > 0; --hi) {
      acc += hist[static_cast<size_t>(hi)];
      if (acc > cut) break;
    }
    for (int i = 0; i < 256; ++i)
      luts[c][static_cast<size_t>(i)] =
          hi <= lo ? static_cast<uint8_t>(i) : cv::saturate_cast<uint8_t>((i - lo) * 255.0 / (hi - lo));
  }
  return apply_lut_per_channel(img, luts);
}

// Per-channel histogram equalisation (PIL ImageOps.equalize rule).
cv::Mat op_equalize(const cv::Mat& img, std::mt19937_64&) {
  std::vector<cv::Mat> ch;
  cv::split(img, ch);
  std::array<std::array<uint8_t, 256>, 3> luts{};
  for (size_t c = 0; c < 3; ++c) {
    std::array<long, 256> hist{};
    for (int y = 0; y < ch[c].rows; ++y) {
      const uint8_t* p = ch[c].ptr<uint8_t>(y);
      for (int x = 0; x < ch[c].cols; ++x) ++hist[p[x]];
    }
    long last = 0, total = 0;
    for (int i = 0; i < 256; ++i) {
      total += hist[static_cast<size_t>(i)];
      if (hist[static_cast<size_t>(i)]) last = hist[static_cast<size_t>(i)];
    }
    const long step = (total - last) / 255;
    long acc = step / 2;
    for (int i = 0; i < 256; ++i) {
      if (step == 0) {
        luts[c][static_cast<size_t>(i)] = static_cast<uint8_t>(i);
        continue;
      }
      luts[c][static_cast<size_t>(i)] = static_cast<uint8_t>(std::min(255L, acc / step));
      acc += hist[static_cast<size_t>(i)];
    }
  }
  return apply_lut_per_channel(img, luts);
}

cv::Mat op_rotate(const cv::Mat& img, std::mt19937_64& rng) { return rotate_same_size(img, uniform(rng, -45.0, 45.0)); }

}  // namespace

int filter_mask_components(cv::Mat& mask, const cv::Mat& foreground, double min_area) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  std::vector<uint8_t> on_fg(static_cast<size_t>(n), 0);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* f = foreground.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x)
      if (l[x] > 0 && f[x] > 0.5f) on_fg[static_cast<size_t>(l[x])] = 1;
  }
  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  int kept = 0;
  for (int i = 1; i < n; ++i) {
    keep[static_cast<size_t>(i)] = stats.at<int>(i, cv::CC_STAT_AREA) >= min_area && on_fg[static_cast<size_t>(i)];
    kept += keep[static_cast<size_t>(i)];
  }
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) m[x] = keep[static_cast<size_t>(l[x])] ? m[x] : 0;
  }
  return kept;
}

cv::Mat perlin_mask(int size, const cv::Mat& foreground, std::mt19937_64& rng) {
  const double min_area = kMinAreaRatio * size * size;
  for (int attempt = 0; attempt < kMaskAttempts; ++attempt) {
    const int res_y = 1 << uniform_int(rng, 0, kPerlinMaxLog2 - 1);
    const int res_x = 1 << uniform_int(rng, 0, kPerlinMaxLog2 - 1);
    cv::Mat noise = perlin_noise_2d(size, size, res_y, res_x, rng);
    noise = rotate_same_size(noise, uniform(rng, -90.0, 90.0));
    cv::Mat mask = noise > kPerlinThreshold;  // 0 / 255
    if (filter_mask_components(mask, foreground, min_area) > 0) return mask;
  }
  // Fallback (seen only with a tiny or absent foreground): an ellipse centred
  // on a random foreground pixel (any pixel when there is none).
  std::vector<cv::Point> centres;
  for (int y = 0; y < size; ++y) {
    const float* f = foreground.ptr<float>(y);
    for (int x = 0; x < size; ++x)
      if (f[x] > 0.5f) centres.emplace_back(x, y);
  }
  cv::Point c = centres.empty() ? cv::Point(uniform_int(rng, 0, size - 1), uniform_int(rng, 0, size - 1))
                                : centres[static_cast<size_t>(uniform_int(rng, 0, static_cast<int>(centres.size()) - 1))];
  const int rx = std::max(3, uniform_int(rng, size / 16, size / 6)), ry = std::max(3, uniform_int(rng, size / 16, size / 6));
  cv::Mat mask = cv::Mat::zeros(size, size, CV_8U);
  cv::ellipse(mask, c, cv::Size(rx, ry), uniform(rng, 0.0, 180.0), 0, 360, cv::Scalar(255), cv::FILLED);
  return mask;
}

cv::Mat structure_source(const cv::Mat& image, std::mt19937_64& rng) {
  using Op = cv::Mat (*)(const cv::Mat&, std::mt19937_64&);
  std::vector<Op> ops = {op_gamma,  op_brightness, op_sharpness,   op_hue_saturation, op_solarize,
                         op_posterize, op_invert,  op_autocontrast, op_equalize,       op_rotate};
  // 3 distinct ops, in random order: the first 3 of a partial Fisher-Yates shuffle.
  for (int i = 0; i < 3; ++i) std::swap(ops[static_cast<size_t>(i)], ops[static_cast<size_t>(uniform_int(rng, i, static_cast<int>(ops.size()) - 1))]);
  cv::Mat img = image.clone();
  for (int i = 0; i < 3; ++i) img = ops[static_cast<size_t>(i)](img, rng);

  const int tile_h = img.rows / kStructureGrid, tile_w = img.cols / kStructureGrid;
  if (tile_h < 1 || tile_w < 1) return img;
  const int n = kStructureGrid * kStructureGrid;
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(uniform_int(rng, 0, i))]);
  cv::Mat out = img.clone();
  for (int i = 0; i < n; ++i) {
    const int src = order[static_cast<size_t>(i)];
    const cv::Rect from((src % kStructureGrid) * tile_w, (src / kStructureGrid) * tile_h, tile_w, tile_h);
    const cv::Rect to((i % kStructureGrid) * tile_w, (i / kStructureGrid) * tile_h, tile_w, tile_h);
    img(from).copyTo(out(to));
  }
  return out;
}

SynthSample synthesize_perlin(const cv::Mat& image, const cv::Mat& foreground, const SynthSettings& settings,
                              const SynthSources& sources, std::mt19937_64& rng) {
  SynthSample s;
  s.image = image.clone();
  s.mask = cv::Mat::zeros(image.size(), CV_8U);
  if (!(uniform(rng, 0.0, 1.0) < settings.anomaly_ratio)) return s;  // a normal sample

  const int size = image.rows;
  s.mask = perlin_mask(size, foreground, rng);
  // Textures always use a texture image; objects half the time (the structure
  // source otherwise); without textures the structure source is the only one.
  const bool texture = !sources.textures.empty() && (!settings.object || uniform(rng, 0.0, 1.0) < 0.5);
  cv::Mat source;
  if (texture) {
    source = sources.textures[static_cast<size_t>(uniform_int(rng, 0, static_cast<int>(sources.textures.size()) - 1))];
    if (source.size() != image.size()) cv::resize(source, source, image.size(), 0, 0, cv::INTER_LINEAR);
  } else {
    source = structure_source(image, rng);
  }
  const float beta = static_cast<float>(uniform(rng, 0.5, 1.0));
  for (int y = 0; y < size; ++y) {
    const uint8_t* m = s.mask.ptr<uint8_t>(y);
    const auto* a = source.ptr<cv::Vec3b>(y);
    auto* o = s.image.ptr<cv::Vec3b>(y);
    for (int x = 0; x < image.cols; ++x) {
      if (!m[x]) continue;
      for (int c = 0; c < 3; ++c) o[x][c] = cv::saturate_cast<uint8_t>(beta * a[x][c] + (1.0f - beta) * o[x][c]);
    }
  }
  return s;
}

}  // namespace advad::cpr::synth_detail
