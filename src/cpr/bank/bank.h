// CprBank: everything CPR scores against besides the network weights — the
// L2-normalised head features of every training image (per scale), the GRB
// codebook and per-image block histograms, and (object categories) the folded
// FEB 1x1 conv plus each training image's foreground map.
//
// Memory grows linearly with the number N of training images; per image
// (320x320 input, D=384): D*(80*80 + 40*40) feature values = 12.29 MB in fp32
// (6.14 MB in fp16), + 1.3 KB histograms + 25.6 KB foreground map.
//
// File format (one file, "bank.bin" in a package), little-endian:
//   "ADVADCPRBANK" | u32 version | u64 header bytes | JSON header | blobs
// The JSON names each tensor (dtype, shape, offset, bytes, 64-bit checksum),
// the input size, the training image names and (banks written since leave-one-out
// calibration) each training image's content hash. Loading checks the magic,
// the header, every shape against the others, the file length and the
// checksums, and throws ModelError naming the file on any mismatch. The
// feature tensors of a loaded bank are views of a read-only shared memory map
// of the file (other processes scoring with the package share the pages); they
// must never be written in place (to()/select() copy where they change them).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>
#include <torch/types.h>

namespace advad::cpr {

struct CprBank {
  std::array<torch::Tensor, 2> features;  // [N,D,H/4,W/4], [N,D,H/8,W/8]; L2-normalised; fp32 or fp16
  torch::Tensor codebook;                 // [words, 256] float32 (GRB visual words)
  torch::Tensor histograms;               // [N, blocks, words+1] float32
  torch::Tensor feb_weight;               // [1,256,1,1] float32; undefined = no foreground branch
  torch::Tensor feb_bias;                 // [1] float32
  torch::Tensor foreground;               // [N, H/4, W/4] float32 FEB maps of the training images (with FEB)
  std::vector<std::string> train_names;   // training image names (relative paths), index order
  // Content hash (file_content_hash) of each training image file, index order;
  // empty in banks written before they were recorded. Lets a scorer find the
  // bank entries an image came from wherever the files now lie (leave-one-out).
  std::vector<std::string> train_hashes;
  int64_t input_h = 320, input_w = 320;   // network input size the bank was built at

  int64_t size() const { return features[0].defined() ? features[0].size(0) : 0; }
  int64_t head_dim() const { return features[0].size(1); }
  bool has_foreground() const { return feb_weight.defined(); }
  torch::Device device() const { return features[0].device(); }
  // Bytes held by all tensors, and per training image (features + histograms + foreground).
  int64_t bytes() const;
  int64_t bytes_per_image() const;

  // Throws ModelError "<where>: ..." when shapes do not agree with each other.
  void validate(const std::string& where) const;
  // Copy with the features in feature_dtype (kFloat / kHalf) on device; the
  // small tensors stay float32.
  CprBank to(const torch::Device& device, torch::ScalarType feature_dtype) const;
  // Keep only the given training images (in that order).
  CprBank select(const std::vector<int64_t>& indices) const;

  // Indices of the bank entries whose training image has the same content as
  // the file at `path` (empty when none, or when the bank holds no hashes).
  std::vector<int64_t> entries_of_file(const std::string& path) const;
  bool has_hashes() const { return !train_hashes.empty(); }

  void save(const std::string& path) const;
  static CprBank load(const std::string& path);
};

// 64-bit hash of a file's bytes as 16 hex digits (InputError naming the file
// when it cannot be read). Identifies a training image across copies and moves.
std::string file_content_hash(const std::string& path);

}  // namespace advad::cpr
