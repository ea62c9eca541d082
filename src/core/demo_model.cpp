// The demo scorer (TorchScript defined from C++) and synthetic demo frames.
#include "core/demo_model.h"

#include <torch/script.h>

#include <cmath>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace fs = std::filesystem;

namespace advad {

void write_demo_scorer(const std::string& file, const DemoOptions& opt) {
  if (opt.window < 3 || opt.window % 2 == 0) throw InputError("demo scorer: window must be odd and >= 3");
  if (!(opt.contrast > 0)) throw InputError("demo scorer: contrast must be > 0");
  torch::jit::Module m("AdvadDemoScorer");
  const InputSpec in;  // the demo profile uses the default (ImageNet) normalisation
  m.register_buffer("mean", torch::tensor({in.mean[0], in.mean[1], in.mean[2]}).view({1, 3, 1, 1}));
  m.register_buffer("std", torch::tensor({in.std[0], in.std[1], in.std[2]}).view({1, 3, 1, 1}));
  m.register_attribute("gain", c10::FloatType::get(), 255.0 / opt.contrast);
  const std::string k = std::to_string(opt.window), p = std::to_string(opt.window / 2);
  // Separable box mean (padding excluded from the count, so borders are not
  // darkened); identical to the 2-D window mean and O(window) per pixel.
  m.define(R"(
def forward(self, x):
    rgb = x * self.std + self.mean
    g = rgb.mean(1, True)
    local = torch.avg_pool2d(g, [1, )" + k + "], [1, 1], [0, " + p + R"(], False, False, None)
    local = torch.avg_pool2d(local, [)" + k + ", 1], [1, 1], [" + p + R"(, 0], False, False, None)
    return torch.clamp(torch.abs(g - local) * self.gain, 0.0, 1.0)
)");
  try {
    m.save(file);
  } catch (const c10::Error& e) {
    throw ModelError("cannot write demo model '" + file + "': " + e.msg().substr(0, e.msg().find('\n')));
  }
}

Profile demo_profile(const std::string& model_file, const DemoOptions& opt) {
  Profile p;
  p.category = "demo";
  p.method = "torchscript";
  p.model = model_file;
  p.input.width = p.input.height = opt.input_size;
  p.tiling.levels = opt.levels;
  if (opt.overlap > 0) {
    p.tiling.overlap = opt.overlap;
    p.tiling.merge = MergeMode::Mean;
    p.tiling.blend = BlendMode::Hann;
  }
  p.threshold = opt.threshold;
  p.post.min_area = opt.min_area;
  return p;
}

std::string write_demo_package(const std::string& dir, const DemoOptions& opt) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError("cannot create demo package folder '" + dir + "': " + ec.message());
  const std::string model = (fs::absolute(dir) / "model.pt").lexically_normal().string();
  write_demo_scorer(model, opt);
  const std::string ini = (fs::absolute(dir) / "profile.ini").lexically_normal().string();
  save_profile(demo_profile(model, opt), ini);
  return ini;
}

cv::Mat make_synthetic_frame(int w, int h, bool with_defect, uint32_t seed, cv::Rect* defect_box) {
  if (w < 32 || h < 32) throw InputError("synthetic frame: size must be at least 32x32");
  cv::RNG rng(0x9E3779B97F4A7C15ULL ^ seed);
  // Smooth texture: a base colour plus three long waves (periods >= ~1/3 of
  // the frame), so the local mean follows it closely.
  const double base = rng.uniform(100.0, 150.0);
  double fx[3], fy[3], ph[3], amp[3];
  for (int i = 0; i < 3; ++i) {
    const double period = rng.uniform(0.35, 1.2) * std::max(w, h);
    const double ang = rng.uniform(0.0, CV_PI);
    fx[i] = 2 * CV_PI * std::cos(ang) / period;
    fy[i] = 2 * CV_PI * std::sin(ang) / period;
    ph[i] = rng.uniform(0.0, 2 * CV_PI);
    amp[i] = rng.uniform(5.0, 12.0);
  }
  cv::Mat gray(h, w, CV_32F);
  for (int y = 0; y < h; ++y) {
    float* g = gray.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      double v = base;
      for (int i = 0; i < 3; ++i) v += amp[i] * std::sin(fx[i] * x + fy[i] * y + ph[i]);
      g[x] = static_cast<float>(v);
    }
  }
  cv::Mat noise(h, w, CV_32F);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, 2.0);
  gray += noise;
  if (defect_box) *defect_box = cv::Rect();
  if (with_defect) {
    const int r = std::max(4, std::min(w, h) / 48);
    const int margin = 2 * r + 2;
    cv::Point c(rng.uniform(margin, w - margin), rng.uniform(margin, h - margin));
    cv::Size axes(r, std::max(2, static_cast<int>(r * rng.uniform(0.6, 1.0))));
    const double angle = rng.uniform(0.0, 180.0);
    const double delta = rng.uniform(0, 2) ? 60.0 : -60.0;
    cv::Mat blob = cv::Mat::zeros(h, w, CV_8U);
    cv::ellipse(blob, c, axes, angle, 0, 360, cv::Scalar(255), cv::FILLED);
    cv::add(gray, cv::Scalar(delta), gray, blob);
    if (defect_box) *defect_box = cv::boundingRect(blob);
  }
  // Slight colour tint: same texture in all channels, scaled per channel.
  cv::Mat rgb8;
  std::vector<cv::Mat> ch = {gray * 1.05, gray * 1.0, gray * 0.9};
  cv::Mat rgbf;
  cv::merge(ch, rgbf);
  rgbf.convertTo(rgb8, CV_8UC3);  // saturating
  return rgb8;
}

}  // namespace advad
