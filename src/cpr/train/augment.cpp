#include "cpr/train/augment.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "train/rng.h"

namespace advad::cpr {

namespace {
double u01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
}  // namespace

std::mt19937_64 cpr_train_rng(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
  uint64_t x = seed;
  uint64_t h = train::splitmix64(x);
  x ^= stream * 0xd1b54a32d192ed03ull;
  h ^= train::splitmix64(x);
  x ^= a * 0x8cb92ba72f3d8dd7ull;
  h ^= train::splitmix64(x);
  x ^= b * 0xa0761d6478bd642full;
  h ^= train::splitmix64(x);
  std::seed_seq seq{static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(x),
                    static_cast<uint32_t>(x >> 32)};
  return std::mt19937_64(seq);
}

void cpr_augment(cv::Mat& bgr, std::mt19937_64& rng) {
  CV_Assert(bgr.type() == CV_8UC3);
  if (u01(rng) < 0.3) {
    const double snr = 0.97 + 0.03 * u01(rng);
    const double half = (1.0 - snr) / 2.0;
    for (int y = 0; y < bgr.rows; ++y) {
      cv::Vec3b* row = bgr.ptr<cv::Vec3b>(y);
      for (int x = 0; x < bgr.cols; ++x) {
        const double u = u01(rng);
        if (u < snr) continue;
        const uchar v = u < snr + half ? 255 : 0;
        row[x] = cv::Vec3b(v, v, v);
      }
    }
  }
  if (u01(rng) < 0.3) {
    const double f = 1.0 + (u01(rng) * 0.2 - 0.1);
    cv::Mat hls;
    cv::cvtColor(bgr, hls, cv::COLOR_BGR2HLS);
    for (int y = 0; y < hls.rows; ++y) {
      cv::Vec3b* row = hls.ptr<cv::Vec3b>(y);
      for (int x = 0; x < hls.cols; ++x) row[x][1] = static_cast<uchar>(std::clamp(row[x][1] * f, 0.0, 255.0));
    }
    cv::cvtColor(hls, bgr, cv::COLOR_HLS2BGR);
  }
}

}  // namespace advad::cpr
