#include "cpr/train/run.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <type_traits>
#include <utility>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/autograd.h>
#include <torch/optim/adamw.h>

#include "core/error.h"
#include "cpr/bank/build.h"
#include "cpr/bank/codebook_cv.h"
#include "cpr/bank/feb_fit.h"
#include "cpr/bank/package.h"
#include "cpr/model/grb.h"
#include "cpr/model/image.h"
#include "cpr/model/network.h"
#include "cpr/model/settings.h"
#include "cpr/model/weights.h"
#include "cpr/synth/synth.h"
#include "cpr/train/augment.h"
#include "cpr/train/loss.h"
#include "cpr/train/points.h"
#include "io/checkpoint.h"
#include "io/state_dict.h"

namespace fs = std::filesystem;

namespace advad::cpr {

namespace {

// Stream ids of the counter-based generators.
constexpr uint64_t kInitStream = 0x494e4954ull;     // "INIT": head initialisation
constexpr uint64_t kSynthStream = 0x53594e54ull;    // "SYNT": synthesis (image, sample)
constexpr uint64_t kShuffleStream = 0x53485546ull;  // "SHUF": epoch order
constexpr uint64_t kPairStream = 0x50414952ull;     // "PAIR": (step, slot) -> reference, augmentation, points

size_t below(std::mt19937_64& rng, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

torch::Tensor scalar64(int64_t v) { return torch::tensor({v}, torch::kInt64); }

cv::Mat read_bgr(const std::string& path) {
  cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  if (img.empty()) throw InputError("cannot read training image " + path + " (missing, unreadable or not an image)");
  return img;
}

// Head parameters and buffers (BN running statistics) by name, in module order.
std::vector<std::pair<std::string, torch::Tensor>> head_state(CprNetworkImpl& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& p : net.lrb()->named_parameters(true)) out.emplace_back("lrb." + p.key(), p.value());
  for (auto& b : net.lrb()->named_buffers(true)) out.emplace_back("lrb." + b.key(), b.value());
  return out;
}

// The optimizer's state map is keyed by the parameter's TensorImpl: as a
// printed pointer in LibTorch 1.x, as the pointer itself in 2.x.
using AdamWStateKey = std::decay_t<decltype(std::declval<torch::optim::AdamW&>().state())>::key_type;
template <typename Key>
Key impl_key(const torch::Tensor& p) {  // a template, so only the branch for this LibTorch is compiled
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << p.unsafeGetTensorImpl();
    return text.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}
AdamWStateKey state_key(const torch::Tensor& p) { return impl_key<AdamWStateKey>(p); }

// AdamW state of each parameter as optim.<i>.{step, exp_avg, exp_avg_sq} (step 0: no state yet).
void save_adamw(StateDict& sd, torch::optim::AdamW& opt, const std::vector<torch::Tensor>& params) {
  auto& state = opt.state();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string base = "optim." + std::to_string(i) + ".";
    auto it = state.find(state_key(params[i]));
    if (it == state.end()) {
      put_copy(sd, base + "step", scalar64(0));
      continue;
    }
    const auto& st = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    put_copy(sd, base + "step", scalar64(st.step()));
    put_copy(sd, base + "exp_avg", st.exp_avg());
    put_copy(sd, base + "exp_avg_sq", st.exp_avg_sq());
  }
}

void load_adamw(const StateDict& sd, const std::string& path, torch::optim::AdamW& opt,
                const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard ng;
  auto& state = opt.state();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string base = "optim." + std::to_string(i) + ".";
    const int64_t step = sd.at(base + "step").item<int64_t>();
    state.erase(state_key(params[i]));
    if (step == 0) continue;
    auto st = std::make_unique<torch::optim::AdamWParamState>();
    st->step(step);
    st->exp_avg(sd.at(base + "exp_avg").to(params[i].device(), params[i].scalar_type()).clone());
    st->exp_avg_sq(sd.at(base + "exp_avg_sq").to(params[i].device(), params[i].scalar_type()).clone());
    if (!st->exp_avg().sizes().equals(params[i].sizes()))
      throw ModelError(path + ": optimizer state '" + base + "exp_avg' does not fit the parameter; the checkpoint "
                       "belongs to another model");
    state[state_key(params[i])] = std::move(st);
  }
}

// The network to train: head init from the seed, backbone from torchvision
// weights (or random), heads optionally from an official checkpoint.
CprNetwork build_network(const CprTrainSettings& s) {
  int64_t head_dim = kDefaultHeadDim;
  StateDict init;
  if (!s.init.empty()) {
    if (!fs::exists(s.init))
      throw ModelError("init checkpoint " + s.init + " not found ([train] init); give an official CPR weights file or "
                       "remove the key");
    init = load_state_dict(s.init);
    head_dim = checkpoint_head_dim(init);
  }
  if (s.backbone_weights != "random" && !fs::exists(s.backbone_weights))
    throw ModelError("backbone weights " + s.backbone_weights + " not found ([train] backbone_weights); download "
                     "torchvision's densenet201-*.pth or use `random`");
  std::mt19937_64 r = cpr_train_rng(s.seed, kInitStream);
  torch::manual_seed(r());
  CprNetwork net(head_dim);
  if (!init.keys.empty()) {
    load_cpr_weights(*net, init, s.backbone_weights == "random" ? "" : s.backbone_weights);
  } else if (s.backbone_weights != "random") {
    load_torchvision_backbone(*net, s.backbone_weights);
  }
  return net;
}

// Each training image's k nearest other training images by GRB distance.
std::vector<std::vector<int>> grb_neighbours(const torch::Tensor& tap0, int k, uint64_t seed) {
  const torch::Tensor codebook = kmeans_codebook_cv(tap0, 12, 50000, 10, seed);
  const torch::Tensor hists = grb_histograms(grb_codes(tap0, codebook), codebook.size(0));
  const int64_t n = tap0.size(0);
  std::vector<std::vector<int>> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j : grb_rank(grb_distances(hists[i], hists))) {
      if (j == i) continue;
      out[static_cast<size_t>(i)].push_back(static_cast<int>(j));
      if (static_cast<int>(out[static_cast<size_t>(i)].size()) == k) break;
    }
  }
  return out;
}

std::vector<size_t> epoch_order(size_t n, uint64_t seed, long epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng = cpr_train_rng(seed, kShuffleStream, static_cast<uint64_t>(epoch));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[below(rng, i)]);
  return order;
}

// The point sets of a batch, slot by slot, stacked into CprBatchPoints.
struct BatchPoints {
  std::vector<torch::Tensor> pq, pr, pw, fq, fr, fw, aq, ar, aw;
  void add(const PairPoints& p) {
    pq.push_back(p.positive.query), pr.push_back(p.positive.ref), pw.push_back(p.positive.weight);
    fq.push_back(p.far.query), fr.push_back(p.far.ref), fw.push_back(p.far.weight);
    aq.push_back(p.anomaly.query), ar.push_back(p.anomaly.ref), aw.push_back(p.anomaly.weight);
  }
  CprBatchPoints stack() const {
    CprBatchPoints bp;
    bp.pos_query = torch::stack(pq), bp.pos_ref = torch::stack(pr), bp.pos_weight = torch::stack(pw);
    bp.far_query = torch::stack(fq), bp.far_ref = torch::stack(fr), bp.far_weight = torch::stack(fw);
    bp.anom_query = torch::stack(aq), bp.anom_ref = torch::stack(ar), bp.anom_weight = torch::stack(aw);
    return bp;
  }
};

// One step's input: [queries; references] and their points, on the device.
struct Batch {
  torch::Tensor x;
  CprBatchPoints points;
};

class CprTrainer final : public train::Method {
 public:
  CprTrainer(const Profile& profile, const CprTrainSettings& settings) : profile_(profile), s_(settings) {}

  const char* method() const override { return "cpr"; }
  const char* name() const override { return "CPR"; }
  std::string divergence_hint() const override { return "lower [train] lr"; }

  void prepare(const torch::Device& device, const train::StageFn& stage) override;
  long total_steps() const override { return s_.steps; }
  long checkpoint_every() const override { return s_.checkpoint_every; }
  int64_t seed() const override { return static_cast<int64_t>(s_.seed); }
  std::vector<train::ShapeEntry> shape() const override {
    return {{"batch", s_.batch, "batch"},
            {"samples", static_cast<int64_t>(synthetic_), "synthetic samples"},
            {"size", s_.size, "input size"},
            {"points", s_.points, "points"}};
  }
  train::StepLoss step(long step) override;
  void save_state(StateDict& sd) override;
  void load_state(const StateDict& sd, const std::string& path) override;
  std::string write_package(const std::string& output, const train::StageFn& stage) override;

  void describe(CprTrainResult& r) const {
    r.images = names_.size();
    r.synthetic = synthetic_;
    r.anomalous = anomalous_;
    r.foreground = foreground_;
    r.foreground_note = foreground_note_;
  }

 private:
  void list_images();
  void read_images(const train::StageFn& stage);
  void fit_foreground(const torch::Tensor& tap0);
  void synthesize_queries(const train::StageFn& stage);
  void make_optimizer();
  Batch assemble_batch(long step);
  CprLoss forward_loss(const Batch& batch);

  const Profile& profile_;
  const CprTrainSettings& s_;
  CprSettings cs_;
  torch::Device device_{torch::kCPU};
  std::string folder_;
  std::vector<std::string> names_;
  CprNetwork net_{nullptr};
  std::vector<cv::Mat> refs_;                // training images at the network size
  std::vector<std::vector<int>> neighbours_; // each image's k GRB neighbours
  std::vector<cv::Mat> feb_maps_, fg_weights_;  // per image; empty without foreground
  bool foreground_ = false;
  std::string foreground_note_;
  std::vector<cv::Mat> q_images_, q_masks_;  // synthetic queries, synth_per_image per image
  size_t synthetic_ = 0, anomalous_ = 0;  // the package step frees the queries, not these counts
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  PointSamplerOptions po_;
  long order_epoch_ = -1;
  std::vector<size_t> order_;
};

void CprTrainer::prepare(const torch::Device& device, const train::StageFn& stage) {
  cs_ = parse_cpr_settings(profile_);
  device_ = device;
  list_images();  // checks that need no work first: images, network files
  net_ = build_network(s_);
  net_->to(device_);
  read_images(stage);
  synthesize_queries(stage);
  make_optimizer();
}

void CprTrainer::list_images() {
  folder_ = cpr_training_folder(s_.data);
  if (!fs::is_directory(folder_))
    throw InputError("training data folder " + s_.data + " not found ([train] data in " + profile_.path + ")");
  names_ = list_training_images(folder_);  // InputError when none
  if (names_.size() < 2)
    throw InputError("CPR training needs at least 2 training images (a query's reference is another image); " +
                     folder_ + " holds " + std::to_string(names_.size()));
}

// Images at the network size, features, neighbours, foreground.
void CprTrainer::read_images(const train::StageFn& stage) {
  const int S = s_.size;
  const int64_t N = static_cast<int64_t>(names_.size());
  refs_.assign(names_.size(), cv::Mat());
  std::vector<torch::Tensor> inputs(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    cv::Mat img = read_bgr((fs::path(folder_) / names_[i]).string());
    cv::resize(img, refs_[i], cv::Size(S, S), 0, 0, cv::INTER_LINEAR);
    inputs[i] = cpr_input_from_bgr(refs_[i], S, S, profile_.input.mean, profile_.input.std);
    stage("read images", static_cast<int64_t>(i + 1), N);
  }
  const CprTrainFeatures feats = extract_train_features(
      *net_, inputs, device_, 4, [&](int64_t done, int64_t total) { stage("features", done, total); });
  inputs.clear();
  const int kk = std::min<int>(s_.k, static_cast<int>(N - 1));
  neighbours_ = grb_neighbours(feats.tap0, kk, s_.seed);
  feb_maps_.assign(names_.size(), cv::Mat());
  fg_weights_.assign(names_.size(), cv::Mat());
  if (cs_.foreground) fit_foreground(feats.tap0);
}

void CprTrainer::fit_foreground(const torch::Tensor& tap0) {
  const FebFit feb = fit_feb(tap0, s_.seed);
  if (!feb.found) {
    foreground_note_ = feb.reason.empty() ? "the FEB fit found no foreground" : feb.reason;
    return;
  }
  foreground_ = true;
  const torch::Tensor maps = apply_feb(tap0, feb.weight, feb.bias).contiguous();  // [N,h,w]
  for (size_t i = 0; i < names_.size(); ++i) {
    const torch::Tensor m = maps[static_cast<int64_t>(i)].contiguous();
    feb_maps_[i] = cv::Mat(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_32F, m.data_ptr<float>()).clone();
    fg_weights_[i] = foreground_sampling_weight(feb_maps_[i], s_.size);
  }
}

// synth_per_image pseudo-anomalies per image, resized to the network size.
void CprTrainer::synthesize_queries(const train::StageFn& stage) {
  const SynthSources sources = load_synth_sources(s_.synth);
  const int S = s_.size, spi = s_.synth_per_image;
  const size_t M = names_.size() * static_cast<size_t>(spi);
  synthetic_ = M;
  q_images_.assign(M, cv::Mat());
  q_masks_.assign(M, cv::Mat());
  for (size_t i = 0; i < names_.size(); ++i) {
    const cv::Mat img = read_bgr((fs::path(folder_) / names_[i]).string());
    for (int j = 0; j < spi; ++j) {
      std::mt19937_64 rng = cpr_train_rng(s_.seed, kSynthStream, i, static_cast<uint64_t>(j));
      const SynthSample smp = synthesize(img, feb_maps_[i], s_.synth, sources, rng);
      const size_t idx = i * static_cast<size_t>(spi) + static_cast<size_t>(j);
      cv::resize(smp.image, q_images_[idx], cv::Size(S, S), 0, 0, cv::INTER_LINEAR);
      cv::resize(smp.mask, q_masks_[idx], cv::Size(S, S), 0, 0, cv::INTER_NEAREST);
      if (cv::countNonZero(q_masks_[idx]) == S * S) cv::rectangle(q_masks_[idx], {0, 0, 1, 1}, cv::Scalar(0), cv::FILLED);
      if (cv::countNonZero(q_masks_[idx]) > 0) ++anomalous_;
    }
    stage("synthesis", static_cast<int64_t>(i + 1), static_cast<int64_t>(names_.size()));
  }
}

void CprTrainer::make_optimizer() {
  params_ = net_->lrb()->parameters(true);
  for (auto& p : net_->backbone()->parameters(true)) p.set_requires_grad(false);
  opt_ = std::make_unique<torch::optim::AdamW>(
      params_, torch::optim::AdamWOptions(s_.lr).weight_decay(s_.weight_decay));
  po_.points = s_.points;
  po_.object = cs_.foreground;
  po_.far_distance = far_negative_distance(cs_.region_sizes[0]);
  net_->train();  // heads: BN batch statistics; the trunk stays in eval mode
}

// Pairs (a synthetic query, a reference among its image's neighbours), augmented, with points.
Batch CprTrainer::assemble_batch(long step) {
  const int S = s_.size, B = s_.batch;
  const size_t M = synthetic_, spi = static_cast<size_t>(s_.synth_per_image);
  std::vector<torch::Tensor> xq, xr;
  BatchPoints points;
  for (int b = 0; b < B; ++b) {
    const uint64_t g = static_cast<uint64_t>(step) * static_cast<uint64_t>(B) + static_cast<uint64_t>(b);
    const long epoch = static_cast<long>(g / M);
    if (epoch != order_epoch_) {
      order_ = epoch_order(M, s_.seed, epoch);
      order_epoch_ = epoch;
    }
    const size_t idx = order_[g % M];
    const size_t base = idx / spi;
    std::mt19937_64 rng = cpr_train_rng(s_.seed, kPairStream, static_cast<uint64_t>(step), static_cast<uint64_t>(b));
    const auto& nb = neighbours_[base];
    const size_t ref = static_cast<size_t>(nb[below(rng, nb.size())]);
    cv::Mat q = q_images_[idx].clone(), r = refs_[ref].clone();
    if (s_.augment) {
      cpr_augment(q, rng);
      cpr_augment(r, rng);
    }
    cv::Mat w;
    if (foreground_) cv::max(fg_weights_[base], fg_weights_[ref], w);
    points.add(sample_pair_points(q_masks_[idx], w, po_, rng));
    xq.push_back(cpr_input_from_bgr(q, S, S, profile_.input.mean, profile_.input.std));
    xr.push_back(cpr_input_from_bgr(r, S, S, profile_.input.mean, profile_.input.std));
  }
  Batch batch;
  batch.points = points.stack().to(device_);
  batch.x = torch::cat({torch::stack(xq), torch::stack(xr)}).to(device_);
  return batch;
}

// Trunk without gradient, heads in train mode, contrastive loss on both scales.
CprLoss CprTrainer::forward_loss(const Batch& batch) {
  const int B = s_.batch;
  std::array<torch::Tensor, 2> taps;
  {
    torch::NoGradGuard ng;
    taps = net_->backbone_forward(batch.x);
  }
  std::array<torch::Tensor, 2> hq, hr, tq, tr;
  for (size_t sc = 0; sc < 2; ++sc) {
    const torch::Tensor h = net_->lrb()->head(static_cast<int>(sc))->forward(taps[sc]);
    hq[sc] = h.narrow(0, 0, B);
    hr[sc] = h.narrow(0, B, B);
    tq[sc] = taps[sc].narrow(0, 0, B);
    tr[sc] = taps[sc].narrow(0, B, B);
  }
  return cpr_contrastive_loss(hq, hr, tq, tr, batch.points);
}

train::StepLoss CprTrainer::step(long step) {
  const CprLoss loss = forward_loss(assemble_batch(step));
  opt_->zero_grad();
  loss.total.backward();
  opt_->step();
  return {loss.total.item<double>(),
          {{"positive", loss.positive.item<double>()}, {"negative", loss.negative.item<double>()}}};
}

void CprTrainer::save_state(StateDict& sd) {
  for (auto& [k, t] : head_state(*net_)) put_copy(sd, "net." + k, t);
  save_adamw(sd, *opt_, params_);
}

void CprTrainer::load_state(const StateDict& sd, const std::string& path) {
  restore_tensors(sd, "net.", head_state(*net_), "the checkpoint belongs to another head width");
  load_adamw(sd, path, *opt_, params_);
}

// The trained network with the category's bank, codebook and FEB.
std::string CprTrainer::write_package(const std::string& output, const train::StageFn& stage) {
  q_images_.clear();
  q_masks_.clear();
  refs_.clear();
  net_->eval();
  Profile pkg = profile_;
  pkg.method = "cpr";
  pkg.input.width = pkg.input.height = s_.size;
  pkg.input.crop = 0;
  pkg.input.resize = ResizeFilter::Linear;
  auto& tg = pkg.method_groups["train"];
  tg["data"] = s_.data;
  tg["backbone_weights"] = s_.backbone_weights;
  if (!s_.init.empty()) tg["init"] = s_.init;
  CprSettings pcs = cs_;
  pcs.backbone_weights.clear();  // the package's weights.pth carries the backbone
  PackageBuildOptions pb;
  pb.size = s_.size;
  pb.device = device_;
  pb.bank_dtype = cs_.bank_dtype;
  pb.seed = s_.seed;
  pb.progress = [&](const std::string& st, int64_t done, int64_t tot) { stage("package: " + st, done, tot); };
  return write_cpr_package(*net_, folder_, pkg, pcs, pb, output).profile_path;
}

}  // namespace

CprTrainResult run_cpr_training(const Profile& profile, const CprTrainSettings& settings,
                                const train::RunOptions& options) {
  CprTrainer trainer(profile, settings);
  CprTrainResult res;
  static_cast<train::RunResult&>(res) = train::run_training(trainer, profile, options);
  trainer.describe(res);
  return res;
}

}  // namespace advad::cpr
