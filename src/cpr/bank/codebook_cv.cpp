#include "cpr/bank/codebook_cv.h"

#include <ATen/CPUGeneratorImpl.h>
#include <opencv2/core.hpp>

#include "core/error.h"

namespace advad::cpr {

torch::Tensor kmeans_codebook_cv(const torch::Tensor& tap0, int words, int64_t samples, int attempts, uint64_t seed) {
  const int64_t N = tap0.size(0), C = tap0.size(1), total = N * tap0.size(2) * tap0.size(3);
  if (total < words)
    throw InputError("CPR codebook: " + std::to_string(total) + " feature vectors for " + std::to_string(words) +
                     " words; give more training images");
  // Row per position (channels last), a seeded random subset like the official permutation[:50000].
  auto rows = tap0.to(torch::kCPU, torch::kFloat).permute({0, 2, 3, 1}).reshape({total, C});
  torch::Generator gen = at::detail::createCPUGenerator(seed);
  auto pick = torch::randperm(total, gen, torch::kLong).narrow(0, 0, std::min(samples, total));
  auto data = rows.index_select(0, pick).contiguous();
  cv::Mat mat(static_cast<int>(data.size(0)), static_cast<int>(C), CV_32F, data.data_ptr<float>());
  cv::Mat labels, centres;
  cv::theRNG().state = seed;
  cv::kmeans(mat, words, labels, cv::TermCriteria(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, 300, 1e-4),
             attempts, cv::KMEANS_PP_CENTERS, centres);
  return torch::from_blob(centres.data, {words, C}, torch::kFloat).clone();
}

}  // namespace advad::cpr
