// NumPy .npy reading/writing (little-endian, C order; f4, f8, i8, u1, i4, f2).
#pragma once
#include <string>
#include <torch/types.h>

namespace advad {
torch::Tensor load_npy(const std::string& path);   // throws InputError
void save_npy(const torch::Tensor& t, const std::string& path);
}  // namespace advad
