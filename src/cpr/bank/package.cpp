#include "cpr/bank/package.h"

#include <filesystem>

#include "core/error.h"
#include "data/package_paths.h"
#include "cpr/bank/build.h"
#include "cpr/bank/codebook_cv.h"
#include "cpr/model/image.h"
#include "cpr/model/model.h"
#include "cpr/model/weights.h"
#include "io/state_dict.h"

namespace fs = std::filesystem;

namespace advad::cpr {

PackageBuildResult write_cpr_package(CprNetworkImpl& net, const std::string& train_dir, Profile p,
                                     CprSettings settings, const PackageBuildOptions& o, const std::string& out_dir) {
  if (o.size < 32 || o.size % 8)
    throw InputError("CPR package: the network input side must be a multiple of 8, at least 32 (got " +
                     std::to_string(o.size) + ")");
  if (o.batch < 1) throw InputError("CPR package: the batch must be >= 1 (got " + std::to_string(o.batch) + ")");
  if (out_dir.empty()) throw InputError("CPR package: no output folder given");
  const auto report = [&](const char* stage, int64_t done, int64_t total) {
    if (o.progress) o.progress(stage, done, total);
  };

  // The package's profile fields.
  p.method = "cpr";
  if (p.category.empty()) {
    auto norm = fs::absolute(out_dir).lexically_normal();
    if (norm.filename().empty()) norm = norm.parent_path();  // "pkg/"
    p.category = norm.filename().string();
  }
  p.input.width = p.input.height = o.size;
  p.input.crop = 0;
  p.input.resize = ResizeFilter::Linear;

  // Training images -> features.
  const auto names = list_training_images(train_dir);  // throws InputError naming train_dir when empty
  const auto n_images = static_cast<int64_t>(names.size());
  std::vector<torch::Tensor> images;
  images.reserve(names.size());
  report("read images", 0, n_images);
  for (size_t i = 0; i < names.size(); ++i) {
    images.push_back(load_cpr_input((fs::path(train_dir) / names[i]).string(), o.size, o.size, p.input.mean,
                                    p.input.std));
    report("read images", static_cast<int64_t>(i + 1), n_images);
  }
  report("features", 0, n_images);
  auto features = extract_train_features(net, images, o.device, o.batch,
                                         [&](int64_t done, int64_t total) { report("features", done, total); });
  images.clear();

  // GRB codebook and FEB (objects): the given official ones, else fitted here.
  PackageBuildResult res;
  res.images = n_images;
  res.codebook_given = o.codebook.defined();
  torch::Tensor codebook = o.codebook;
  if (!res.codebook_given) {
    report("codebook", 0, 1);
    codebook = kmeans_codebook_cv(features.tap0, 12, 50000, 10, o.seed);
    report("codebook", 1, 1);
  }
  if (!settings.foreground) {
    res.feb.reason = "foreground is off";
  } else if (o.feb_weight.defined()) {
    res.feb_given = res.feb.found = true;
    res.feb.weight = o.feb_weight;
    res.feb.bias = o.feb_bias;
  } else {
    report("foreground", 0, 1);
    res.feb = fit_feb(features.tap0, o.seed);
    report("foreground", 1, 1);
  }
  auto bank = res.feb.found ? assemble_bank(features, codebook, res.feb.weight, res.feb.bias, names, o.bank_dtype)
                                  : assemble_bank(features, codebook, {}, {}, names, o.bank_dtype);
  if (o.grb_refs.defined() && o.grb_refs.sizes() == bank.histograms.sizes())
    res.grb_refs_max_diff = (bank.histograms - o.grb_refs.to(torch::kFloat)).abs().max().item<double>();
  features = CprTrainFeatures{};
  // Content hashes: calibration finds an image's own bank entry by them (leave-one-out).
  for (const auto& n : names) bank.train_hashes.push_back(file_content_hash((fs::path(train_dir) / n).string()));

  // Write.
  fs::create_directories(out_dir);
  res.weights_path = (fs::path(out_dir) / kWeightsFile).string();
  res.bank_path = (fs::path(out_dir) / kBankFile).string();
  res.profile_path = (fs::path(out_dir) / "profile.ini").string();
  save_state_dict(official_state_dict(net), res.weights_path);
  bank.save(res.bank_path);
  res.bank_bytes = bank.bytes();
  res.bank_bytes_per_image = bank.bytes_per_image();
  settings.backbone_weights.clear();  // the package's weights.pth carries the backbone
  p.method_groups.erase("cpr");
  store_cpr_settings(settings, p);
  // Self-contained: model "." and [train] paths relative to the package.
  rebase_train_paths(p, p.path.empty() ? "" : fs::path(p.path).parent_path().string(), out_dir);
  p.model = fs::absolute(out_dir).lexically_normal().string();
  save_profile(p, res.profile_path);
  return res;
}

}  // namespace advad::cpr
