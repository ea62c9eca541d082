// The CPR trainer's randomness and augmentation (official train.py): the
// counter-based generator every use draws from, and the image augmentation.
#pragma once
#include <cstdint>
#include <random>
#include <opencv2/core.hpp>

namespace advad::cpr {

// A generator for (seed, stream, a, b): independent streams for every use.
std::mt19937_64 cpr_train_rng(uint64_t seed, uint64_t stream, uint64_t a = 0, uint64_t b = 0);

// The official augmentation of one BGR uint8 image, in place: with p 0.3
// salt-and-pepper noise (SNR ~ U(0.97, 1): each pixel becomes white or black
// with probability (1-SNR)/2 each, all channels), then with p 0.3 the HLS
// lightness scaled by 1 + U(-0.1, 0.1) (clipped, truncated to uint8).
void cpr_augment(cv::Mat& bgr, std::mt19937_64& rng);

}  // namespace advad::cpr
