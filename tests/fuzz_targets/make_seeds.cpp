// Writes the fuzz seeds that tests/data has no small real file for, with the
// project's own writers: CPR banks (with and without the foreground branch,
// fp32 and fp16 features), images (JPEG, 16-bit and palette-free gray PNG,
// float16 and uint8 TIFF), .npy arrays of several dtypes and a small state
// dict. Built on request only:
//   ninja -C build tests/fuzz_targets/make_fuzz_seeds && build/tests/fuzz_targets/make_fuzz_seeds tests/data/fuzz
#include <cstdio>
#include <filesystem>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "cpr/bank/bank.h"
#include "data/tiff_io.h"
#include "io/npy.h"
#include "io/state_dict.h"

namespace {

using namespace advad;

// A valid 32x32-input bank: N images, D channels, 2 visual words, 4 blocks.
cpr::CprBank small_bank(int64_t n, bool feb, torch::ScalarType features) {
  torch::manual_seed(18);
  cpr::CprBank b;
  b.input_h = b.input_w = 32;
  b.features[0] = torch::nn::functional::normalize(torch::randn({n, 4, 8, 8}),
                                                   torch::nn::functional::NormalizeFuncOptions().dim(1)).to(features);
  b.features[1] = torch::nn::functional::normalize(torch::randn({n, 4, 4, 4}),
                                                   torch::nn::functional::NormalizeFuncOptions().dim(1)).to(features);
  b.codebook = torch::randn({2, 256});
  b.histograms = torch::rand({n, 4, 3});
  if (feb) {
    b.feb_weight = torch::randn({1, 256, 1, 1});
    b.feb_bias = torch::randn({1});
    b.foreground = torch::rand({n, 8, 8});
  }
  for (int64_t i = 0; i < n; ++i) {
    b.train_names.push_back("good/" + std::to_string(i) + ".png");
    b.train_hashes.push_back("00000000000000" + std::to_string(10 + i));
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR (e.g. tests/data/fuzz)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  for (const char* d : {"bank", "image", "npy", "pth"}) std::filesystem::create_directories(out / d);
  small_bank(1, true, torch::kFloat).save((out / "bank/feb_f4.bin").string());
  small_bank(2, false, torch::kHalf).save((out / "bank/plain_f2.bin").string());

  cv::Mat rgb(12, 16, CV_8UC3);
  cv::randu(rgb, 0, 255);
  cv::imwrite((out / "image/rgb.jpg").string(), rgb, {cv::IMWRITE_JPEG_QUALITY, 60});
  cv::imwrite((out / "image/rgb.png").string(), rgb);
  cv::Mat gray16(9, 7, CV_16UC1);
  cv::randu(gray16, 0, 65535);
  cv::imwrite((out / "image/gray16.png").string(), gray16);
  cv::Mat map(10, 6, CV_32FC1);
  cv::randu(map, 0.0f, 1.0f);
  write_float_tiff((out / "image/map_f16.tif").string(), map, MapDepth::Float16);
  cv::imwrite((out / "image/rgb.tif").string(), rgb);
  cv::imwrite((out / "image/gray.bmp").string(), gray16 / 256);

  save_npy(torch::arange(6, torch::kInt64).reshape({2, 3}), (out / "npy/i8_2x3.npy").string());
  save_npy(torch::tensor({true, false, true}), (out / "npy/b1_3.npy").string());
  save_npy(torch::rand({2, 2}).to(torch::kHalf), (out / "npy/f2_2x2.npy").string());
  save_npy(torch::tensor(3.5, torch::kFloat64), (out / "npy/f8_scalar.npy").string());

  StateDict sd;
  sd.keys = {"w", "b", "steps"};
  sd.tensors["w"] = torch::randn({2, 3}).to(torch::kHalf);
  sd.tensors["b"] = torch::randn({3});
  sd.tensors["steps"] = torch::tensor(7, torch::kInt64);
  save_state_dict(sd, (out / "pth/small_state_dict.pth").string());
  std::printf("seeds written to %s\n", out.c_str());
  return 0;
}
