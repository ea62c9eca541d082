// CprModel: the advad::Model backend for method = cpr.
//
// A CPR model package is a directory holding
//   profile.ini   the category profile (method = cpr, [cpr] group: see cpr/model/settings.h)
//   weights.pth   official CPR state dict (lrb.conv.* + optional backbone keys)
//   bank.bin      the CprBank (features, codebook, histograms, FEB)
// Profile::model points at the directory.
//
// score(): one network pass for the batch, then per tile GRB retrieval, local
// matching, fusion at the input size (320), optional foreground weighting.
// The returned map is that map (blur = off, as the ISVL seed writes it) or
// its 33x33 blur (blur = on, the official test.py map), resized bilinearly
// (align_corners=false, as cv2.resize) to the tile's out_size. The image score
// is always the top-T sum of the blurred input-size map.
#pragma once
#include <memory>
#include <string>

#include "core/model.h"
#include "cpr/bank/bank.h"
#include "cpr/model/network.h"
#include "cpr/model/scorer.h"
#include "cpr/model/settings.h"

namespace advad::cpr {

inline const char* kWeightsFile = "weights.pth";
inline const char* kBankFile = "bank.bin";

class CprModel : public Model {
 public:
  // net: loaded network; bank: any device/dtype (moved to `device` in settings.bank_dtype).
  // precision: the network's dtype (float32, bf16 or fp16; see CprNetworkImpl::to_inference);
  // everything after the network runs in float32 (float64 for the foreground step).
  CprModel(CprNetwork net, const CprBank& bank, CprSettings settings, torch::Device device,
           torch::ScalarType precision = torch::kFloat, std::string origin = "");

  ScoredBatch score(const torch::Tensor& batch, const std::vector<cv::Size>& out_sizes) override;
  torch::Device device() const override { return device_; }
  std::string describe() const override;  // names the network's precision (fp32 | bf16 | fp16)
  // How the precision was chosen (PrecisionChoice::reason), shown by describe().
  void set_precision_reason(std::string reason) { precision_reason_ = std::move(reason); }
  torch::ScalarType precision() const { return precision_; }

  // Full per-tile results (retrieval, intermediate maps) for a batch.
  std::vector<CprQueryResult> score_details(const torch::Tensor& batch, CprTimings* timings = nullptr);
  const CprBank& bank() const { return bank_; }
  // Leave-one-out: bank entries that following score() calls neither retrieve
  // nor match against (the entries of the image being scored, found with
  // bank().entries_of_file). Empty = none. ModelError naming an index out of range.
  void set_excluded(std::vector<int64_t> entries);
  const std::vector<int64_t>& excluded() const { return excluded_; }
  const CprSettings& settings() const { return settings_; }
  CprSettings& settings() { return settings_; }

 private:
  CprNetwork net_;
  CprBank bank_;
  CprSettings settings_;
  torch::Device device_;
  torch::ScalarType precision_;
  std::string origin_;
  std::string precision_reason_;
  std::vector<int64_t> excluded_;
};

// Load a package directory (weights.pth + bank.bin) with the profile's [cpr] settings.
std::unique_ptr<CprModel> load_cpr_package(const Profile& profile, const ModelOptions& options);

}  // namespace advad::cpr
