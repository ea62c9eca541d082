#include "inpformer/train_loop.h"

#include <memory>
#include <numeric>
#include <torch/autograd.h>

#include "core/error.h"
#include "inpformer/inpformer_package.h"
#include "inpformer/inpformer_weights.h"
#include "inpformer/train_augment.h"
#include "inpformer/train_data.h"
#include "inpformer/train_loss.h"
#include "inpformer/train_optim.h"
#include "io/checkpoint.h"

namespace advad::inpformer {

namespace {

// Stream ids of the counter-based generator: each use draws from its own stream.
constexpr uint64_t kShuffleStream = 0x5348554646ull;  // "SHUFF"
constexpr uint64_t kAugmentStream = 0x4155474dull;    // "AUGM"

std::vector<size_t> epoch_order(size_t n, uint64_t seed, long epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  TrainRng rng(seed, kShuffleStream, static_cast<uint64_t>(epoch));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng.randint(0, static_cast<int>(i - 1)))]);
  return order;
}

// The trainable parameters by name (everything outside encoder.*), in module order.
std::vector<std::pair<std::string, torch::Tensor>> trainable_named(InpFormerNet& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& p : net->named_parameters(true))
    if (p.key().rfind("encoder.", 0) != 0) out.emplace_back(p.key(), p.value());
  return out;
}

class InpFormerTrainer final : public train::Method {
 public:
  InpFormerTrainer(const Profile& profile, const TrainSettings& settings) : profile_(profile), s_(settings) {}

  const char* method() const override { return "inpformer"; }
  const char* name() const override { return "INP-Former"; }
  std::string divergence_hint() const override { return "lower [train] lr or check the encoder weights"; }

  void prepare(const torch::Device& device, const train::StageFn& stage) override {
    device_ = device;
    build_network();
    load_tiles(stage);
    make_optimizer();
  }
  long total_steps() const override { return total_; }
  long checkpoint_every() const override { return s_.checkpoint_every; }
  int64_t seed() const override { return static_cast<int64_t>(s_.seed); }
  std::vector<train::ShapeEntry> shape() const override {
    return {{"tiles", static_cast<int64_t>(data_->size()), "training tiles"}, {"batch", s_.batch, "batch"}};
  }
  train::StepLoss step(long step) override;
  void save_state(StateDict& sd) override {
    for (auto& [k, t] : trainable_named(net_)) put_copy(sd, "net." + k, t);
    opt_->save_state(sd, "optim.");
  }
  void load_state(const StateDict& sd, const std::string&) override {
    restore_tensors(sd, "net.", trainable_named(net_), "the checkpoint belongs to another architecture");
    opt_->load_state(sd, "optim.");
  }
  std::string write_package(const std::string& output, const train::StageFn& stage) override;

  void describe(TrainRunResult& r) const {
    r.model = spec_.cfg.describe();
    if (!data_) return;
    r.images = data_->images().size();
    r.tiles = data_->size();
  }

 private:
  void build_network();
  void load_tiles(const train::StageFn& stage);
  void make_optimizer();
  torch::Tensor assemble_batch(long step);

  const Profile& profile_;
  const TrainSettings& s_;
  torch::Device device_{torch::kCPU};
  InpFormerSpec spec_;
  InpFormerNet net_{nullptr};
  std::unique_ptr<TileDataset> data_;
  long per_epoch_ = 0, total_ = 0;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<StableAdamW> opt_;
  AugmentSpec aug_;
  long order_epoch_ = -1;
  std::vector<size_t> order_;
};

// Seed first, so a random encoder and the official init are reproducible.
void InpFormerTrainer::build_network() {
  StateDict encoder_sd;
  spec_ = training_spec(profile_, s_, &encoder_sd);
  torch::manual_seed(s_.seed);
  net_ = InpFormerNet(spec_.cfg);
  if (!encoder_sd.keys.empty()) load_inpformer_weights(net_, encoder_sd);
  encoder_sd = StateDict{};
  net_->init_trainable();
  net_->freeze_encoder();
  net_->to(device_);
}

// The seed's tiles of every training image; the step count follows from them.
void InpFormerTrainer::load_tiles(const train::StageFn& stage) {
  TrainDataSpec ds;
  ds.folder = s_.data;
  ds.grids = s_.grids;
  ds.full_image = s_.full_image;
  ds.input = profile_.input;
  ds.cache_bytes = static_cast<size_t>(s_.cache_mb) << 20;
  data_ = std::make_unique<TileDataset>(ds, [&](size_t done, size_t total) {
    stage("tiles", static_cast<int64_t>(done), static_cast<int64_t>(total));
  });
  if (data_->size() < static_cast<size_t>(s_.batch))
    throw InputError("training data: " + std::to_string(data_->size()) + " tiles from " +
                     std::to_string(data_->images().size()) + " images in " + s_.data + " are fewer than one batch (" +
                     std::to_string(s_.batch) + "); lower [train] batch or add images / grids");
  per_epoch_ = static_cast<long>(data_->size() / static_cast<size_t>(s_.batch));
  total_ = s_.iterations > 0 ? s_.iterations : static_cast<long>(s_.epochs) * per_epoch_;
}

void InpFormerTrainer::make_optimizer() {
  StableAdamWOptions oo;
  oo.lr = s_.lr;
  oo.weight_decay = s_.weight_decay;
  params_ = net_->trainable_parameters();
  opt_ = std::make_unique<StableAdamW>(params_, oo);
  aug_.hflip = s_.hflip;
  aug_.vflip = s_.vflip;
  aug_.lighting = s_.lighting;
  net_->train();
}

// The step's tiles in epoch order, each augmented by its own (step, slot) generator.
torch::Tensor InpFormerTrainer::assemble_batch(long step) {
  const long epoch = step / per_epoch_, pos = step % per_epoch_;
  if (epoch != order_epoch_) {
    order_ = epoch_order(data_->size(), s_.seed, epoch);
    order_epoch_ = epoch;
  }
  std::vector<cv::Mat> items;
  for (int j = 0; j < s_.batch; ++j) {
    cv::Mat t = data_->tile(order_[static_cast<size_t>(pos * s_.batch + j)]);
    TrainRng rng(s_.seed, kAugmentStream, static_cast<uint64_t>(step), static_cast<uint64_t>(j));
    augment(t, aug_, rng);
    items.push_back(t);
  }
  return normalise_batch(items, profile_.input).to(device_);
}

train::StepLoss InpFormerTrainer::step(long step) {
  const torch::Tensor x = assemble_batch(step);
  const double lr = warm_cosine_lr(step, total_, s_.warmup, s_.lr, s_.lr_final);
  opt_->set_lr(lr);
  InpFormerOutput out = net_->forward(x);
  TrainLoss loss = inpformer_loss(out.enc_groups, out.dec_groups, out.distance, 0.2, 3.0);
  opt_->zero_grad();
  loss.total.backward();
  const double gnorm = clip_grad_norm(params_, s_.clip);
  opt_->step();
  return {loss.total.item<double>(),
          {{"soft_mining", loss.soft_mining.item<double>()},
           {"coherence", loss.coherence.item<double>()},
           {"lr", lr},
           {"grad_norm", gnorm}}};
}

// The profile with the resolved training settings recorded, and the weights.
std::string InpFormerTrainer::write_package(const std::string& output, const train::StageFn&) {
  net_->eval();
  net_->to(torch::kCPU);
  Profile pkg = profile_;
  auto& tg = pkg.method_groups["train"];
  tg["data"] = s_.data;
  tg["encoder_weights"] = s_.encoder_weights;
  return save_package(output, net_, pkg, spec_.map);
}

}  // namespace

TrainRunResult run_inpformer_training(const Profile& profile, const TrainSettings& settings,
                                      const train::RunOptions& options) {
  InpFormerTrainer trainer(profile, settings);
  TrainRunResult res;
  static_cast<train::RunResult&>(res) = train::run_training(trainer, profile, options);
  trainer.describe(res);
  return res;
}

}  // namespace advad::inpformer
