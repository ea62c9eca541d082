#include "cpr/model/model.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/backend_registry.h"
#include "core/error.h"
#include "cpr/model/score.h"
#include "cpr/model/weights.h"

namespace advad::cpr {
namespace {

const char* precision_name(torch::ScalarType t) {
  return t == torch::kBFloat16 ? "bf16" : t == torch::kHalf ? "fp16" : "fp32";
}

std::string mb(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

CprModel::CprModel(CprNetwork net, const CprBank& bank, CprSettings settings, torch::Device device,
                   torch::ScalarType precision, std::string origin)
    : net_(std::move(net)), settings_(std::move(settings)), device_(device), precision_(precision),
      origin_(std::move(origin)) {
  bank.validate(origin_.empty() ? "CPR bank" : origin_);
  if (bank.head_dim() != net_->head_dim())
    throw ModelError((origin_.empty() ? "CPR bank" : origin_) + ": bank features have " +
                     std::to_string(bank.head_dim()) + " channels but the heads output " +
                     std::to_string(net_->head_dim()) + "; rebuild the bank with these weights");
  if (precision_ != torch::kFloat && precision_ != torch::kBFloat16 && precision_ != torch::kHalf)
    throw ModelError("CPR runs its network in float32, bf16 or fp16; got " + std::string(c10::toString(precision_)));
  bank_ = bank.to(device_, settings_.bank_dtype);
  net_->to_inference(device_, precision_);  // a reduced precision keeps the stem in float32
  net_->eval();
}

std::vector<CprQueryResult> CprModel::score_details(const torch::Tensor& batch, CprTimings* timings) {
  if (batch.dim() != 4 || batch.size(1) != 3)
    throw InputError("CPR input batch must be [B,3,H,W]; got " + [&] {
      std::ostringstream s;
      s << batch.sizes();
      return s.str();
    }());
  if (batch.size(2) != bank_.input_h || batch.size(3) != bank_.input_w)
    throw InputError("CPR input is " + std::to_string(batch.size(3)) + "x" + std::to_string(batch.size(2)) +
                     " but the bank was built at " + std::to_string(bank_.input_w) + "x" +
                     std::to_string(bank_.input_h) + "; set the profile's input size to match (or rebuild the bank)");
  torch::NoGradGuard no_grad;
  const auto start = std::chrono::steady_clock::now();
  // The network runs in precision_ (bf16: oneDNN convolutions); its outputs go
  // to float32 at once, so retrieval, matching, foreground and the maps are float32.
  auto f = net_->forward(batch.to(device_));
  std::array<torch::Tensor, 2> heads = {l2_normalise(f.heads[0].to(torch::kFloat)),
                                        l2_normalise(f.heads[1].to(torch::kFloat))};
  const auto tap0 = f.taps[0].to(torch::kFloat);
  if (timings) {
    sync_device(device_);
    timings->backbone += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::vector<CprQueryResult> out;
  for (int64_t b = 0; b < batch.size(0); ++b) {
    out.push_back(score_query(bank_, settings_, tap0[b], {heads[0][b], heads[1][b]}, timings, excluded_));
    if (timings) ++timings->images;
  }
  return out;
}

void CprModel::set_excluded(std::vector<int64_t> entries) {
  for (int64_t i : entries)
    if (i < 0 || i >= bank_.size())
      throw ModelError("CPR: bank entry " + std::to_string(i) + " to leave out is outside the bank of " +
                       std::to_string(bank_.size()));
  excluded_ = std::move(entries);
}

ScoredBatch CprModel::score(const torch::Tensor& batch, const std::vector<cv::Size>& out_sizes) {
  if (static_cast<int64_t>(out_sizes.size()) != batch.size(0))
    throw InputError("CPR score: " + std::to_string(out_sizes.size()) + " output sizes for a batch of " +
                     std::to_string(batch.size(0)));
  auto details = score_details(batch);
  ScoredBatch out;
  for (size_t i = 0; i < details.size(); ++i) {
    const auto& d = details[i];
    const auto& map = settings_.blur ? d.blurred : d.map;
    const auto& sz = out_sizes[i];
    if (sz.width < 1 || sz.height < 1) throw InputError("CPR score: output size must be positive");
    out.maps.push_back(resize_bilinear(map, sz.height, sz.width).to(torch::kFloat).contiguous());
    out.scores.push_back(static_cast<float>(d.score));
  }
  return out;
}

std::string CprModel::describe() const {
  std::ostringstream s;
  s << "cpr: DenseNet201 + LRB(" << net_->head_dim() << "), input " << bank_.input_w << "x" << bank_.input_h
    << ", bank " << bank_.size() << " images (" << mb(bank_.bytes()) << ", "
    << (settings_.bank_dtype == torch::kHalf ? "fp16" : "fp32") << "), k " << std::min<int64_t>(settings_.k, bank_.size())
    << ", foreground " << (!settings_.foreground ? "off" : bank_.has_foreground() ? "on" : "on (no FEB in bank: weight 1)")
    << ", device " << device_.str() << ", network " << precision_name(precision_)
    << (precision_reason_.empty() ? "" : " (" + precision_reason_ + ")")
    << (precision_ == torch::kFloat ? "" : ", stem and maps fp32");
  return s.str();
}

std::unique_ptr<CprModel> load_cpr_package(const Profile& profile, const ModelOptions& options) {
  namespace fs = std::filesystem;
  const CprSettings settings = parse_cpr_settings(profile);
  fs::path dir(profile.model);
  if (profile.model.empty() || !fs::is_directory(dir))
    throw ModelError(profile.path + ": model '" + profile.model +
                     "' is not a CPR package folder (weights.pth + bank.bin); create one with `advad import cpr` or "
                     "`advad train`");
  const std::string weights = (dir / kWeightsFile).string(), bank_path = (dir / kBankFile).string();
  if (!fs::exists(weights)) throw ModelError(weights + ": missing CPR weights in the package");
  if (!fs::exists(bank_path)) throw ModelError(bank_path + ": missing CPR bank in the package");
  const torch::Device device = resolve_device(options.device);
  const PrecisionChoice choice = resolve_model_precision(profile, options);
  if (choice.name == "int8")
    throw ModelError("precision 'int8' is not implemented for CPR (its DenseNet201 and LRB heads are convolutions; "
                     "only INP-Former has an int8 path)" +
                     (choice.reason.empty() ? std::string() : " [" + choice.reason + "]") +
                     "; use auto, bf16 (fast on CPUs with avx512_bf16/amx_bf16) or fp32");
  const torch::ScalarType precision = choice.dtype;

  const StateDict sd = load_state_dict(weights);
  CprNetwork net(checkpoint_head_dim(sd));
  load_cpr_weights(*net, sd, settings.backbone_weights);
  CprBank bank = CprBank::load(bank_path);
  if (bank.input_h != profile.input.height || bank.input_w != profile.input.width)
    throw ModelError(bank_path + ": bank built at " + std::to_string(bank.input_w) + "x" + std::to_string(bank.input_h) +
                     " but " + profile.path + " [input] asks for " + std::to_string(profile.input.width) + "x" +
                     std::to_string(profile.input.height) + "; make them equal");
  if (profile.input.crop != 0)
    throw ModelError(profile.path + ": CPR uses no crop; set [input] crop = 0");
  auto model = std::make_unique<CprModel>(std::move(net), bank, settings, device, precision, bank_path);
  model->set_precision_reason(choice.reason);
  return model;
}

}  // namespace advad::cpr

namespace advad {
std::unique_ptr<Model> create_cpr_model(const Profile& profile, const ModelOptions& options) {
  return cpr::load_cpr_package(profile, options);
}

// bf16: DenseNet201 blocks and LRB heads in bf16, maps in fp32 (tests/cpr/test_cpr_precision.cpp).
ADVAD_REGISTER_BACKEND(cpr, {"cpr", "CPR (DenseNet201 features, retrieval and local patch matching)",
                             /*auto_bf16=*/true, create_cpr_model});
}  // namespace advad
