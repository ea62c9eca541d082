// advad::Model backend for INP-Former: profile -> network on a device, batch
// of tiles -> one map per tile (official or seed map path) and a score.
#include <cmath>
#include <sstream>
#include <torch/torch.h>

#include "core/backend_registry.h"
#include "core/error.h"
#include "core/model.h"
#include "inpformer/anomaly_map.h"
#include "inpformer/dense.h"
#include "inpformer/inpformer_package.h"

namespace advad {

namespace {

using namespace inpformer;

class InpFormerModel : public Model {
 public:
  InpFormerModel(const Profile& p, const ModelOptions& o)
      : profile_(p), device_(resolve_device(o.device)),
        precision_(resolve_model_precision(p, o)) {
    // bf16 on the CPU: the weights and every matmul in bf16 (oneDNN's bf16 GEMM
    // where the CPU has avx512_bf16/amx), LayerNorm, softmax, L2 normalisations,
    // the group means, cosine maps, blur and the score in float32.
    // int8 (CPU only, checked by the resolver): every linear layer of the
    // encoder, extractor, bottleneck and decoder as dynamic int8 (dense.h);
    // the patch embedding, attention products, norms and maps stay float32.
    dtype_ = precision_.dtype;
    auto loaded = load_inpformer(p, /*trim_encoder=*/true);
    net_ = loaded.net;
    map_ = loaded.map;
    weights_ = loaded.weights_path;
    net_->eval();
    net_->to(device_, dtype_);
    if (precision_.name == "int8") {
      const int n = quantize_dense_layers_int8(*net_);
      int8_note_ = " (" + std::to_string(n) + " linear layers on " + int8_engine_name() + ")";
    }
  }

  ScoredBatch score(const torch::Tensor& batch, const std::vector<cv::Size>& out_sizes) override {
    if (batch.dim() != 4 || batch.size(0) != static_cast<int64_t>(out_sizes.size()))
      throw InputError("INP-Former: batch of " + std::to_string(batch.dim() == 4 ? batch.size(0) : -1) +
                       " tiles but " + std::to_string(out_sizes.size()) + " output sizes");
    torch::NoGradGuard ng;
    auto out = net_->forward(batch.to(device_, dtype_));
    auto gm = group_maps(out);  // float32 [B,G,gh,gw]
    ScoredBatch r;
    const int64_t B = batch.size(0);
    if (map_.path == MapPath::Seed) {
      for (int64_t b = 0; b < B; ++b) {
        auto [m, s] = seed_tile_map(gm[b], out_sizes[b].height, out_sizes[b].width, map_.score_ratio);
        r.maps.push_back(m);
        r.scores.push_back(s);
      }
      return r;
    }
    auto st = official_map(gm, batch.size(2), batch.size(3), map_.map_size, map_.score_ratio);
    for (int64_t b = 0; b < B; ++b) {
      r.maps.push_back(place_official(st.map[b], out_sizes[b]));
      r.scores.push_back(st.score[b].item<float>());
    }
    return r;
  }

  torch::Device device() const override { return device_; }

  std::string describe() const override {
    std::ostringstream o;
    o << "inpformer " << net_->cfg.describe() << ", input " << profile_.input.width << "x" << profile_.input.height
      << (profile_.input.crop ? " crop " + std::to_string(profile_.input.crop) : std::string())
      << ", " << (map_.path == MapPath::Seed ? "seed" : "official") << " map, " << device_.str() << ", "
      << precision_.str() << int8_note_ << ", weights " << weights_;
    return o.str();
  }

 private:
  // The official map covers the centre crop of the resized tile: scale it to
  // that region of the tile (bilinear, align_corners=False); pixels the model
  // never saw (outside the crop) get 0.
  torch::Tensor place_official(const torch::Tensor& m /*[1,R,R]*/, cv::Size size) const {
    const auto& in = profile_.input;
    auto resize = [](const torch::Tensor& x, int64_t h, int64_t w) {
      return at::upsample_bilinear2d(x.unsqueeze(0), {h, w}, false)[0][0];
    };
    if (in.crop <= 0) return resize(m, size.height, size.width);
    const double x0 = std::lround((in.width - in.crop) / 2.0), y0 = std::lround((in.height - in.crop) / 2.0);
    const int cx0 = static_cast<int>(std::lround(x0 * size.width / in.width));
    const int cy0 = static_cast<int>(std::lround(y0 * size.height / in.height));
    const int cx1 = static_cast<int>(std::lround((x0 + in.crop) * size.width / in.width));
    const int cy1 = static_cast<int>(std::lround((y0 + in.crop) * size.height / in.height));
    auto full = torch::zeros({size.height, size.width}, m.options());
    if (cx1 > cx0 && cy1 > cy0)
      full.slice(0, cy0, cy1).slice(1, cx0, cx1).copy_(resize(m, cy1 - cy0, cx1 - cx0));
    return full;
  }

  Profile profile_;
  torch::Device device_;
  PrecisionChoice precision_;
  torch::ScalarType dtype_ = torch::kFloat32;
  InpFormerNet net_{nullptr};
  MapSettings map_;
  std::string weights_;
  std::string int8_note_;  // int8: how many layers, which engine (for describe())
};

}  // namespace

std::unique_ptr<Model> create_inpformer_model(const Profile& profile, const ModelOptions& options) {
  return std::make_unique<InpFormerModel>(profile, options);
}

// bf16: weights and matmuls in bf16, LayerNorm/softmax/maps in fp32 (tests/inpformer/test_inpformer_precision.cpp).
ADVAD_REGISTER_BACKEND(inpformer, {"inpformer", "INP-Former (DINOv2 ViT encoder, INP extractor and decoder)",
                                   /*auto_bf16=*/true, create_inpformer_model});

}  // namespace advad
