#include "inpformer/train_loop.h"

#include <cmath>
#include <filesystem>
#include <numeric>
#include <torch/autograd.h>

#include "core/error.h"
#include "core/model.h"
#include "inpformer/inpformer_package.h"
#include "inpformer/inpformer_weights.h"
#include "inpformer/train_augment.h"
#include "inpformer/train_data.h"
#include "inpformer/train_loss.h"
#include "inpformer/train_optim.h"
#include "io/checkpoint.h"

namespace fs = std::filesystem;

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

struct Meta {
  int64_t step, total, seed, tiles, batch;
};

void write_checkpoint(const std::string& path, InpFormerNet& net, const StableAdamW& opt, const Meta& m) {
  StateDict sd;
  put_meta(sd, "step", m.step);
  put_meta(sd, "total", m.total);
  put_meta(sd, "seed", m.seed);
  put_meta(sd, "tiles", m.tiles);
  put_meta(sd, "batch", m.batch);
  for (auto& [k, t] : trainable_named(net)) put_copy(sd, "net." + k, t);
  opt.save_state(sd, "optim.");
  save_checkpoint(sd, path);
}

long read_checkpoint(const std::string& path, InpFormerNet& net, StableAdamW& opt, const Meta& expect) {
  const StateDict sd = load_checkpoint(path);
  expect_meta(sd, "seed", expect.seed, "seed");
  expect_meta(sd, "total", expect.total, "total steps");
  expect_meta(sd, "tiles", expect.tiles, "training tiles");
  expect_meta(sd, "batch", expect.batch, "batch");
  restore_tensors(sd, "net.", trainable_named(net), "the checkpoint belongs to another architecture");
  opt.load_state(sd, "optim.");
  return checkpoint_step(sd, expect.total);
}

}  // namespace

TrainRunResult run_inpformer_training(const Profile& profile, const TrainSettings& s, const TrainRunOptions& o) {
  if (profile.method != "inpformer")
    throw ProfileError(profile.path + ": [profile] method is " + profile.method +
                       "; the INP-Former trainer needs method = inpformer");
  TrainRunResult res;
  const std::string output = o.output.empty() ? profile.model : o.output;
  if (output.empty()) throw ProfileError(profile.path + ": [profile] model is empty; name the package folder to write");
  const std::string ckpt = o.checkpoint.empty() ? (fs::path(output) / "checkpoint.pth").string() : o.checkpoint;
  const torch::Device device = resolve_device(o.device);

  // Network: seed first, so a random encoder and the official init are reproducible.
  StateDict encoder_sd;
  const InpFormerSpec spec = training_spec(profile, s, &encoder_sd);
  torch::manual_seed(s.seed);
  InpFormerNet net(spec.cfg);
  if (!encoder_sd.keys.empty()) load_inpformer_weights(net, encoder_sd);
  encoder_sd = StateDict{};
  net->init_trainable();
  net->freeze_encoder();
  net->to(device);
  res.model = spec.cfg.describe();

  // Data.
  TrainDataSpec ds;
  ds.folder = s.data;
  ds.grids = s.grids;
  ds.full_image = s.full_image;
  ds.input = profile.input;
  ds.cache_bytes = static_cast<size_t>(s.cache_mb) << 20;
  TileDataset data(ds, o.on_image);
  res.images = data.images().size();
  res.tiles = data.size();
  if (data.size() < static_cast<size_t>(s.batch))
    throw InputError("training data: " + std::to_string(data.size()) + " tiles from " +
                     std::to_string(res.images) + " images in " + s.data + " are fewer than one batch (" +
                     std::to_string(s.batch) + "); lower [train] batch or add images / grids");
  const long per_epoch = static_cast<long>(data.size() / static_cast<size_t>(s.batch));
  const long total = s.iterations > 0 ? s.iterations : static_cast<long>(s.epochs) * per_epoch;
  res.total_steps = total;

  StableAdamWOptions oo;
  oo.lr = s.lr;
  oo.weight_decay = s.weight_decay;
  std::vector<torch::Tensor> params = net->trainable_parameters();
  StableAdamW opt(params, oo);
  const Meta meta{0, total, static_cast<int64_t>(s.seed), static_cast<int64_t>(data.size()), s.batch};

  long step = 0;
  if (o.resume) step = read_checkpoint(ckpt, net, opt, meta);
  res.start_step = step;

  AugmentSpec aug;
  aug.hflip = s.hflip;
  aug.vflip = s.vflip;
  aug.lighting = s.lighting;
  net->train();
  long order_epoch = -1;
  std::vector<size_t> order;
  const long stop = o.stop_after > 0 ? std::min(total, o.stop_after) : total;
  while (step < stop) {
    const long epoch = step / per_epoch, pos = step % per_epoch;
    if (epoch != order_epoch) {
      order = epoch_order(data.size(), s.seed, epoch);
      order_epoch = epoch;
    }
    std::vector<cv::Mat> items;
    for (int j = 0; j < s.batch; ++j) {
      cv::Mat t = data.tile(order[static_cast<size_t>(pos * s.batch + j)]);
      TrainRng rng(s.seed, kAugmentStream, static_cast<uint64_t>(step), static_cast<uint64_t>(j));
      augment(t, aug, rng);
      items.push_back(t);
    }
    const torch::Tensor x = normalise_batch(items, profile.input).to(device);

    const double lr = warm_cosine_lr(step, total, s.warmup, s.lr, s.lr_final);
    opt.set_lr(lr);
    InpFormerOutput out = net->forward(x);
    TrainLoss loss = inpformer_loss(out.enc_groups, out.dec_groups, out.distance, 0.2, 3.0);
    opt.zero_grad();
    loss.total.backward();
    const double gnorm = clip_grad_norm(params, s.clip);
    opt.step();
    ++step;

    TrainStep info{step, total, loss.total.item<double>(), loss.soft_mining.item<double>(),
                   loss.coherence.item<double>(), lr, gnorm};
    if (!std::isfinite(info.loss))
      throw ModelError("training diverged at step " + std::to_string(step) + " (loss " + std::to_string(info.loss) +
                       "); lower [train] lr or check the encoder weights");
    res.losses.push_back(info.loss);
    if (o.on_step) o.on_step(info);
    const bool periodic = s.checkpoint_every > 0 && step % s.checkpoint_every == 0 && step < total;
    if (periodic || (step == stop && stop < total)) {
      Meta m = meta;
      m.step = step;
      write_checkpoint(ckpt, net, opt, m);
      res.checkpoint = ckpt;
    }
  }
  res.steps_done = step;
  if (step < total) return res;  // stopped early: the checkpoint holds the state

  // Package: the profile with the resolved training settings recorded, and the weights.
  net->eval();
  net->to(torch::kCPU);
  Profile pkg = profile;
  auto& tg = pkg.method_groups["train"];
  tg["data"] = s.data;
  tg["encoder_weights"] = s.encoder_weights;
  res.package_profile = save_package(output, net, pkg, spec.map);
  if (!o.keep_checkpoint && fs::exists(ckpt)) {
    std::error_code ec;
    fs::remove(ckpt, ec);
    res.checkpoint.clear();
  } else if (fs::exists(ckpt)) {
    res.checkpoint = ckpt;
  }
  return res;
}

}  // namespace advad::inpformer
