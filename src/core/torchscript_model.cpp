// TorchScriptModel: any TorchScript module mapping a float batch [B,3,H,W] to
// anomaly maps [B,1,h,w] or [B,h,w].
#include <torch/script.h>

#include <filesystem>
#include <sstream>

#include "core/backend_registry.h"
#include "core/error.h"
#include "core/model.h"
#include "core/resize.h"

namespace fs = std::filesystem;

namespace advad {

namespace {

// The useful line of a TorchScript error (its traceback is many lines long).
std::string short_error(const std::string& msg) {
  auto at = msg.rfind("Error: ");
  std::string line = at == std::string::npos ? msg : msg.substr(msg.rfind('\n', at) + 1);
  return line.substr(0, line.find('\n'));
}

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes() << " " << t.dtype();
  return os.str();
}

class TorchScriptModel : public Model {
 public:
  TorchScriptModel(std::string file, const ModelOptions& opt, const Profile& profile)
      : file_(std::move(file)), device_(resolve_device(opt.device)), dtype_(torch::kFloat) {
    const PrecisionChoice choice = resolve_model_precision(profile, opt);
    if (choice.name == "int8")
      throw ModelError("precision 'int8' is not available for TorchScript models (only INP-Former has an int8 path); "
                       "use auto, fp32, fp16 or bf16");
    dtype_ = choice.dtype;
    precision_ = choice.str();
    if (!fs::is_regular_file(file_))
      throw ModelError("TorchScript model '" + file_ + "' not found (expected a file written by torch.jit.save "
                       "or `advad make-demo`)");
    try {
      module_ = torch::jit::load(file_, device_);
    } catch (const std::exception& e) {
      throw ModelError("TorchScript model '" + file_ + "' cannot be loaded (corrupt or not a TorchScript archive): " +
                       short_error(e.what()));
    }
    module_.eval();
    if (dtype_ != torch::kFloat32) module_.to(dtype_);
  }

  ScoredBatch score(const torch::Tensor& batch, const std::vector<cv::Size>& out_sizes) override {
    if (batch.dim() != 4 || batch.size(1) != 3)
      throw InputError("TorchScript model '" + file_ + "': input batch must be [B,3,H,W], got " + shape_str(batch));
    const int64_t B = batch.size(0);
    if (static_cast<int64_t>(out_sizes.size()) != B)
      throw InputError("TorchScript model '" + file_ + "': " + std::to_string(out_sizes.size()) + " output sizes for a batch of " +
                       std::to_string(B));
    torch::NoGradGuard no_grad;
    torch::jit::IValue out;
    try {
      out = module_.forward({batch.to(device_, dtype_)});
    } catch (const std::exception& e) {  // c10::Error and the interpreter's JITException
      throw ModelError("TorchScript model '" + file_ + "' failed on input " + shape_str(batch) + ": " +
                       short_error(e.what()));
    }
    const std::string expected = "expected a float tensor [" + std::to_string(B) + ",1,h,w] or [" + std::to_string(B) + ",h,w]";
    if (!out.isTensor()) throw MapShapeError("TorchScript model '" + file_ + "' returned a " + out.tagKind() + ", " + expected);
    torch::Tensor maps = out.toTensor();
    if (!maps.is_floating_point() || !(maps.dim() == 3 || (maps.dim() == 4 && maps.size(1) == 1)) || maps.size(0) != B)
      throw MapShapeError("TorchScript model '" + file_ + "' returned " + shape_str(maps) + ", " + expected);
    if (maps.dim() == 4) maps = maps.squeeze(1);
    maps = maps.to(torch::kFloat32);
    ScoredBatch sb;
    for (int64_t i = 0; i < B; ++i) {
      torch::Tensor m = resize_map_bilinear(maps[i], out_sizes[i].height, out_sizes[i].width).contiguous();
      sb.scores.push_back(m.max().item<float>());
      sb.maps.push_back(m);
    }
    return sb;
  }

  torch::Device device() const override { return device_; }

  std::string describe() const override {
    return "torchscript " + file_ + " on " + device_.str() + " (" + precision_ + ")";
  }

 private:
  std::string file_;
  torch::Device device_;
  torch::ScalarType dtype_;
  std::string precision_;
  torch::jit::Module module_;
};

}  // namespace

std::unique_ptr<Model> create_torchscript_model(const Profile& profile, const ModelOptions& options) {
  // The profile's model may name the .pt itself or a package folder holding model.pt.
  std::string file = profile.model;
  if (fs::is_directory(file)) file = (fs::path(file) / "model.pt").string();
  return std::make_unique<TorchScriptModel>(file, options, profile);
}

ADVAD_REGISTER_BACKEND(torchscript, {"torchscript", "a TorchScript module mapping tiles to anomaly maps",
                                     /*auto_bf16=*/false, create_torchscript_model});

}  // namespace advad
