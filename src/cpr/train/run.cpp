#include "cpr/train/run.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/autograd.h>
#include <torch/optim/adamw.h>

#include "core/error.h"
#include "core/model.h"
#include "cpr/bank/build.h"
#include "cpr/bank/codebook_cv.h"
#include "cpr/bank/feb_fit.h"
#include "cpr/model/grb.h"
#include "cpr/model/image.h"
#include "cpr/model/network.h"
#include "cpr/bank/package.h"
#include "cpr/model/settings.h"
#include "cpr/synth/synth.h"
#include "cpr/train/loss.h"
#include "cpr/train/points.h"
#include "cpr/model/weights.h"
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

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double u01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
size_t below(std::mt19937_64& rng, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

torch::Tensor scalar64(int64_t v) { return torch::tensor({v}, torch::kInt64); }

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

cv::Mat read_bgr(const std::string& path) {
  cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  if (img.empty()) throw InputError("cannot read training image " + path + " (missing, unreadable or not an image)");
  return img;
}

// What a checkpoint must agree on to be resumed.
struct Meta {
  int64_t step, total, seed, batch, samples, size, points;
};

// Head parameters and buffers (BN running statistics) by name, in module order.
std::vector<std::pair<std::string, torch::Tensor>> head_state(CprNetworkImpl& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& p : net.lrb()->named_parameters(true)) out.emplace_back("lrb." + p.key(), p.value());
  for (auto& b : net.lrb()->named_buffers(true)) out.emplace_back("lrb." + b.key(), b.value());
  return out;
}

std::string state_key(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

void write_checkpoint(const std::string& path, CprNetworkImpl& net, torch::optim::AdamW& opt,
                      const std::vector<torch::Tensor>& params, const Meta& m) {
  StateDict sd;
  auto put = [&](const std::string& k, const torch::Tensor& t) { put_copy(sd, k, t); };
  put_meta(sd, "step", m.step);
  put_meta(sd, "total", m.total);
  put_meta(sd, "seed", m.seed);
  put_meta(sd, "batch", m.batch);
  put_meta(sd, "samples", m.samples);
  put_meta(sd, "size", m.size);
  put_meta(sd, "points", m.points);
  for (auto& [k, t] : head_state(net)) put("net." + k, t);
  auto& state = opt.state();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string base = "optim." + std::to_string(i) + ".";
    auto it = state.find(state_key(params[i]));
    if (it == state.end()) {
      put(base + "step", scalar64(0));
      continue;
    }
    const auto& st = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    put(base + "step", scalar64(st.step()));
    put(base + "exp_avg", st.exp_avg());
    put(base + "exp_avg_sq", st.exp_avg_sq());
  }
  save_checkpoint(sd, path);
}

long read_checkpoint(const std::string& path, CprNetworkImpl& net, torch::optim::AdamW& opt,
                     const std::vector<torch::Tensor>& params, const Meta& expect) {
  const StateDict sd = load_checkpoint(path);
  expect_meta(sd, "seed", expect.seed, "seed");
  expect_meta(sd, "total", expect.total, "total steps");
  expect_meta(sd, "batch", expect.batch, "batch");
  expect_meta(sd, "samples", expect.samples, "synthetic samples");
  expect_meta(sd, "size", expect.size, "input size");
  expect_meta(sd, "points", expect.points, "points");
  restore_tensors(sd, "net.", head_state(net), "the checkpoint belongs to another head width");
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
  return checkpoint_step(sd, expect.total);
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

}  // namespace

std::mt19937_64 cpr_train_rng(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
  uint64_t x = seed;
  uint64_t h = splitmix(x);
  x ^= stream * 0xd1b54a32d192ed03ull;
  h ^= splitmix(x);
  x ^= a * 0x8cb92ba72f3d8dd7ull;
  h ^= splitmix(x);
  x ^= b * 0xa0761d6478bd642full;
  h ^= splitmix(x);
  std::seed_seq seq{static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(x),
                    static_cast<uint32_t>(x >> 32)};
  return std::mt19937_64(seq);
}

void cpr_augment(cv::Mat& bgr, std::mt19937_64& rng) {
  CV_Assert(bgr.type() == CV_8UC3);
  if (u01(rng) < 0.3) {
    const double snr = 0.97 + 0.03 * u01(rng);
    const double half = (1.0 - snr) / 2.0;
    for (int y = 0; y < bgr.rows; ++y) {
      cv::Vec3b* row = bgr.ptr<cv::Vec3b>(y);
      for (int x = 0; x < bgr.cols; ++x) {
        const double u = u01(rng);
        if (u < snr) continue;
        const uchar v = u < snr + half ? 255 : 0;
        row[x] = cv::Vec3b(v, v, v);
      }
    }
  }
  if (u01(rng) < 0.3) {
    const double f = 1.0 + (u01(rng) * 0.2 - 0.1);
    cv::Mat hls;
    cv::cvtColor(bgr, hls, cv::COLOR_BGR2HLS);
    for (int y = 0; y < hls.rows; ++y) {
      cv::Vec3b* row = hls.ptr<cv::Vec3b>(y);
      for (int x = 0; x < hls.cols; ++x) row[x][1] = static_cast<uchar>(std::clamp(row[x][1] * f, 0.0, 255.0));
    }
    cv::cvtColor(hls, bgr, cv::COLOR_HLS2BGR);
  }
}

CprTrainResult run_cpr_training(const Profile& profile, const CprTrainSettings& s, const CprTrainOptions& o) {
  if (profile.method != "cpr")
    throw ProfileError(profile.path + ": [profile] method is " + profile.method +
                       "; the CPR trainer needs method = cpr");
  CprTrainResult res;
  const std::string output = o.output.empty() ? profile.model : o.output;
  if (output.empty()) throw ProfileError(profile.path + ": [profile] model is empty; name the package folder to write");
  const std::string ckpt = o.checkpoint.empty() ? (fs::path(output) / "checkpoint.pth").string() : o.checkpoint;
  const CprSettings cs = parse_cpr_settings(profile);
  const torch::Device device = resolve_device(o.device);
  auto stage = [&](const char* name, int64_t done, int64_t total) {
    if (o.on_stage) o.on_stage(name, done, total);
  };

  // Checks that need no work first: images, network files.
  const std::string folder = cpr_training_folder(s.data);
  if (!fs::is_directory(folder))
    throw InputError("training data folder " + s.data + " not found ([train] data in " + profile.path + ")");
  const std::vector<std::string> names = list_training_images(folder);  // InputError when none
  if (names.size() < 2)
    throw InputError("CPR training needs at least 2 training images (a query's reference is another image); " +
                     folder + " holds " + std::to_string(names.size()));
  CprNetwork net = build_network(s);
  net->to(device);
  const SynthSources sources = load_synth_sources(s.synth);
  const int S = s.size;
  const int64_t N = static_cast<int64_t>(names.size());
  res.images = names.size();

  // 1. Images at the network size, features, neighbours, foreground.
  std::vector<cv::Mat> refs(names.size());
  std::vector<torch::Tensor> inputs(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    cv::Mat img = read_bgr((fs::path(folder) / names[i]).string());
    cv::resize(img, refs[i], cv::Size(S, S), 0, 0, cv::INTER_LINEAR);
    inputs[i] = cpr_input_from_bgr(refs[i], S, S, profile.input.mean, profile.input.std);
    stage("read images", static_cast<int64_t>(i + 1), N);
  }
  CprTrainFeatures feats = extract_train_features(*net, inputs, device, 4,
                                                  [&](int64_t done, int64_t total) { stage("features", done, total); });
  inputs.clear();
  const int kk = std::min<int>(s.k, static_cast<int>(N - 1));
  const std::vector<std::vector<int>> neighbours = grb_neighbours(feats.tap0, kk, s.seed);
  std::vector<cv::Mat> feb_maps(names.size()), fg_weights(names.size());
  if (cs.foreground) {
    const FebFit feb = fit_feb(feats.tap0, s.seed);
    if (feb.found) {
      res.foreground = true;
      const torch::Tensor maps = apply_feb(feats.tap0, feb.weight, feb.bias).contiguous();  // [N,h,w]
      for (int64_t i = 0; i < N; ++i) {
        const torch::Tensor m = maps[i].contiguous();
        feb_maps[static_cast<size_t>(i)] =
            cv::Mat(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_32F, m.data_ptr<float>()).clone();
        fg_weights[static_cast<size_t>(i)] = foreground_sampling_weight(feb_maps[static_cast<size_t>(i)], S);
      }
    } else {
      res.foreground_note = feb.reason.empty() ? "the FEB fit found no foreground" : feb.reason;
    }
  }
  feats = CprTrainFeatures{};

  // 2. Synthetic queries.
  const int spi = s.synth_per_image;
  const size_t M = names.size() * static_cast<size_t>(spi);
  std::vector<cv::Mat> q_images(M), q_masks(M);
  for (size_t i = 0; i < names.size(); ++i) {
    const cv::Mat img = read_bgr((fs::path(folder) / names[i]).string());
    for (int j = 0; j < spi; ++j) {
      std::mt19937_64 rng = cpr_train_rng(s.seed, kSynthStream, i, static_cast<uint64_t>(j));
      const SynthSample smp = synthesize(img, feb_maps[i], s.synth, sources, rng);
      const size_t idx = i * static_cast<size_t>(spi) + static_cast<size_t>(j);
      cv::resize(smp.image, q_images[idx], cv::Size(S, S), 0, 0, cv::INTER_LINEAR);
      cv::resize(smp.mask, q_masks[idx], cv::Size(S, S), 0, 0, cv::INTER_NEAREST);
      if (cv::countNonZero(q_masks[idx]) == S * S) cv::rectangle(q_masks[idx], {0, 0, 1, 1}, cv::Scalar(0), cv::FILLED);
      if (cv::countNonZero(q_masks[idx]) > 0) ++res.anomalous;
    }
    stage("synthesis", static_cast<int64_t>(i + 1), N);
  }
  res.synthetic = M;

  // 3. Optimisation.
  std::vector<torch::Tensor> params = net->lrb()->parameters(true);
  for (auto& p : net->backbone()->parameters(true)) p.set_requires_grad(false);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(s.lr).weight_decay(s.weight_decay));
  const long total = s.steps;
  res.total_steps = total;
  const Meta meta{0, total, static_cast<int64_t>(s.seed), s.batch, static_cast<int64_t>(M), S, s.points};
  long step = 0;
  if (o.resume) step = read_checkpoint(ckpt, *net, opt, params, meta);
  res.start_step = step;

  PointSamplerOptions po;
  po.points = s.points;
  po.object = cs.foreground;
  po.far_distance = far_negative_distance(cs.region_sizes[0]);
  const int B = s.batch;
  net->train();  // heads: BN batch statistics; the trunk stays in eval mode
  long order_epoch = -1;
  std::vector<size_t> order;
  const long stop = o.stop_after > 0 ? std::min(total, o.stop_after) : total;
  const double t0 = now_s();
  const long first = step;
  while (step < stop) {
    std::vector<torch::Tensor> xq, xr;
    CprBatchPoints bp;
    std::vector<torch::Tensor> pq, pr, pw, fq, fr, fw, aq, ar, aw;
    for (int b = 0; b < B; ++b) {
      const uint64_t g = static_cast<uint64_t>(step) * static_cast<uint64_t>(B) + static_cast<uint64_t>(b);
      const long epoch = static_cast<long>(g / M);
      if (epoch != order_epoch) {
        order = epoch_order(M, s.seed, epoch);
        order_epoch = epoch;
      }
      const size_t idx = order[g % M];
      const size_t base = idx / static_cast<size_t>(spi);
      std::mt19937_64 rng = cpr_train_rng(s.seed, kPairStream, static_cast<uint64_t>(step), static_cast<uint64_t>(b));
      const auto& nb = neighbours[base];
      const size_t ref = static_cast<size_t>(nb[below(rng, nb.size())]);
      cv::Mat q = q_images[idx].clone(), r = refs[ref].clone();
      if (s.augment) {
        cpr_augment(q, rng);
        cpr_augment(r, rng);
      }
      cv::Mat w;
      if (res.foreground) cv::max(fg_weights[base], fg_weights[ref], w);
      const PairPoints pts = sample_pair_points(q_masks[idx], w, po, rng);
      xq.push_back(cpr_input_from_bgr(q, S, S, profile.input.mean, profile.input.std));
      xr.push_back(cpr_input_from_bgr(r, S, S, profile.input.mean, profile.input.std));
      pq.push_back(pts.positive.query), pr.push_back(pts.positive.ref), pw.push_back(pts.positive.weight);
      fq.push_back(pts.far.query), fr.push_back(pts.far.ref), fw.push_back(pts.far.weight);
      aq.push_back(pts.anomaly.query), ar.push_back(pts.anomaly.ref), aw.push_back(pts.anomaly.weight);
    }
    bp.pos_query = torch::stack(pq), bp.pos_ref = torch::stack(pr), bp.pos_weight = torch::stack(pw);
    bp.far_query = torch::stack(fq), bp.far_ref = torch::stack(fr), bp.far_weight = torch::stack(fw);
    bp.anom_query = torch::stack(aq), bp.anom_ref = torch::stack(ar), bp.anom_weight = torch::stack(aw);
    bp = bp.to(device);
    const torch::Tensor x = torch::cat({torch::stack(xq), torch::stack(xr)}).to(device);

    std::array<torch::Tensor, 2> taps;
    {
      torch::NoGradGuard ng;
      taps = net->backbone_forward(x);
    }
    std::array<torch::Tensor, 2> hq, hr, tq, tr;
    for (int sc = 0; sc < 2; ++sc) {
      const torch::Tensor h = net->lrb()->head(sc)->forward(taps[static_cast<size_t>(sc)]);
      hq[static_cast<size_t>(sc)] = h.narrow(0, 0, B);
      hr[static_cast<size_t>(sc)] = h.narrow(0, B, B);
      tq[static_cast<size_t>(sc)] = taps[static_cast<size_t>(sc)].narrow(0, 0, B);
      tr[static_cast<size_t>(sc)] = taps[static_cast<size_t>(sc)].narrow(0, B, B);
    }
    const CprLoss loss = cpr_contrastive_loss(hq, hr, tq, tr, bp);
    opt.zero_grad();
    loss.total.backward();
    opt.step();
    ++step;

    CprTrainStep info;
    info.step = step;
    info.total = total;
    info.loss = loss.total.item<double>();
    info.positive = loss.positive.item<double>();
    info.negative = loss.negative.item<double>();
    info.elapsed_s = now_s() - t0;
    info.eta_s = info.elapsed_s / static_cast<double>(step - first) * static_cast<double>(stop - step);
    if (!std::isfinite(info.loss))
      throw ModelError("training diverged at step " + std::to_string(step) + " (loss " + std::to_string(info.loss) +
                       "); lower [train] lr");
    res.losses.push_back(info.loss);
    if (o.on_step) o.on_step(info);
    const bool periodic = s.checkpoint_every > 0 && step % s.checkpoint_every == 0 && step < total;
    if (periodic || (step == stop && stop < total)) {
      Meta m = meta;
      m.step = step;
      write_checkpoint(ckpt, *net, opt, params, m);
      res.checkpoint = ckpt;
    }
  }
  res.steps_done = step;
  if (step > first) res.seconds_per_step = (now_s() - t0) / static_cast<double>(step - first);
  if (step < total) return res;  // stopped early: the checkpoint holds the state
  q_images.clear();
  q_masks.clear();
  refs.clear();

  // 4. Package: the trained network, the category's bank, codebook and FEB.
  net->eval();
  Profile pkg = profile;
  pkg.method = "cpr";
  pkg.input.width = pkg.input.height = S;
  pkg.input.crop = 0;
  pkg.input.resize = ResizeFilter::Linear;
  auto& tg = pkg.method_groups["train"];
  tg["data"] = s.data;
  tg["backbone_weights"] = s.backbone_weights;
  if (!s.init.empty()) tg["init"] = s.init;
  CprSettings pcs = cs;
  pcs.backbone_weights.clear();  // the package's weights.pth carries the backbone
  PackageBuildOptions pb;
  pb.size = S;
  pb.device = device;
  pb.bank_dtype = cs.bank_dtype;
  pb.seed = s.seed;
  pb.progress = [&](const std::string& st, int64_t done, int64_t tot) {
    if (o.on_stage) o.on_stage("package: " + st, done, tot);
  };
  const PackageBuildResult pr = write_cpr_package(*net, folder, pkg, pcs, pb, output);
  res.package_profile = pr.profile_path;
  if (!o.keep_checkpoint && fs::exists(ckpt)) {
    std::error_code ec;
    fs::remove(ckpt, ec);
    res.checkpoint.clear();
  } else if (fs::exists(ckpt)) {
    res.checkpoint = ckpt;
  }
  return res;
}

}  // namespace advad::cpr
