// Tensor comparisons shared by the model tests (header only: LibTorch comes
// with the test's own advad dependency).
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <torch/types.h>
#include <vector>

namespace advad::test {

// max |a - b| in double; a shape mismatch fails the test and returns 1e9.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e9;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// The elements of an integer tensor, as int64.
inline std::vector<int64_t> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace advad::test
