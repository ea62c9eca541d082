// advad::Detector: the public API over the engine. Loads a profile the way
// advadinfer does (folder -> profile.ini, a package's own profile.ini counts),
// scores with FrameScorer and post-processes with core's postprocess, exactly
// as advadpostproc, `advad run` and `advad predict` do.
#include <filesystem>
#include <map>
#include <utility>

#include "advad/advad.h"
#include "core/error.h"
#include "core/postproc.h"
#include "core/postproc_tensor.h"
#include "core/profile.h"
#include "core/tile_layout.h"
#include "data/package_paths.h"
#include "engine/frame_scorer.h"
#include "engine/model_cache.h"

namespace advad {
namespace fs = std::filesystem;

namespace {

// Everything reaches the caller as an advad::Error: ours pass unchanged,
// LibTorch / OpenCV / std failures keep their message behind `context`.
template <typename F>
auto translating(const std::string& context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(context + ": " + e.what());
  }
}

std::shared_ptr<const Profile> load(const std::string& arg) {
  std::string path = arg;
  if (fs::is_directory(path)) path = (fs::path(path) / "profile.ini").string();
  if (!fs::is_regular_file(path))
    throw InputError("profile '" + path + "' does not exist (give a profile .ini or a model package folder " +
                     "holding profile.ini)");
  auto profile = std::make_shared<Profile>(load_profile(path, true));
  const std::string package = package_profile_path(*profile);
  if (!package.empty()) profile = std::make_shared<Profile>(load_profile(package, true));
  return profile;
}

cv::Mat wrap(const ImageView& v, PixelFormat* format) {
  const int channels = v.format == ImageFormat::Gray8 ? 1 : 3;
  *format = v.format == ImageFormat::Gray8 ? PixelFormat::GRAY8
            : v.format == ImageFormat::BGR8 ? PixelFormat::BGR
                                            : PixelFormat::RGB;
  if (!v.data || v.width <= 0 || v.height <= 0)
    throw InputError("frame: no pixels (data is null or the size " + std::to_string(v.width) + "x" +
                     std::to_string(v.height) + " is empty)");
  const size_t row = static_cast<size_t>(v.width) * static_cast<size_t>(channels);
  if (v.stride != 0 && v.stride < row)
    throw InputError("frame: stride " + std::to_string(v.stride) + " is smaller than a row of " + std::to_string(row) +
                     " bytes");
  // Read-only use: to_rgb copies before anything writes.
  return cv::Mat(v.height, v.width, CV_8UC(channels), const_cast<std::uint8_t*>(v.data),
                 v.stride ? v.stride : row);
}

}  // namespace

struct Detector::Impl {
  std::shared_ptr<const Profile> profile;
  std::shared_ptr<const LoadedModel> loaded;
  std::unique_ptr<FrameScorer> scorer;
  double threshold = 0;
  PostprocSpec post;
  std::map<std::pair<int, int>, TileLayout> layouts;  // one per frame size seen

  const TileLayout& layout(int w, int h) {
    auto it = layouts.find({w, h});
    if (it != layouts.end()) return it->second;
    try {
      return layouts.emplace(std::make_pair(w, h), make_tile_layout(w, h, profile->tiling)).first->second;
    } catch (const InputError& e) {
      throw InputError("frame " + std::to_string(w) + "x" + std::to_string(h) + " does not fit the tiling of " +
                       profile->path + ": " + e.what());
    }
  }
};

Detector::Detector(const std::string& profile, const DetectorOptions& options) : impl_(std::make_unique<Impl>()) {
  translating("advad: cannot load '" + profile + "'", [&] {
    if (options.threads < 0) throw InputError("threads must be >= 0, got " + std::to_string(options.threads));
    if (options.batch < 0) throw InputError("batch must be >= 0, got " + std::to_string(options.batch));
    impl_->profile = load(profile);
    impl_->profile->check_split(options.split);
    impl_->threshold = impl_->profile->threshold_for(options.split);
    impl_->post = impl_->profile->post_for(options.split);
    ModelOptions mo;
    mo.device = options.device;
    mo.precision = options.precision;
    mo.threads = options.threads;
    impl_->loaded = acquire_model(impl_->profile, mo);
    impl_->scorer = std::make_unique<FrameScorer>(impl_->profile, impl_->loaded->model, options.batch);
  });
}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

FrameResult Detector::score(const ImageView& frame) {
  return translating("advad: scoring a frame with " + impl_->profile->path, [&] {
    PixelFormat format;
    const cv::Mat pixels = wrap(frame, &format);
    const AnomalyMap am = impl_->scorer->score(pixels, format, impl_->layout(pixels.cols, pixels.rows));
    // The foreground gate needs the frame in RGB; other chains never look at it.
    const cv::Mat rgb = impl_->post.foreground_gate ? to_rgb(pixels, format) : cv::Mat();
    const Detection det = postprocess(am, impl_->threshold, impl_->post, rgb);

    FrameResult r;
    r.width = pixels.cols;
    r.height = pixels.rows;
    const cv::Mat& host = am.host_map();  // FrameResult carries the map: it comes down
    const cv::Mat map = host.isContinuous() ? host : host.clone();
    r.anomaly_map.assign(map.ptr<float>(), map.ptr<float>() + map.total());
    const cv::Mat mask = det.mask.isContinuous() ? det.mask : det.mask.clone();
    r.mask.assign(mask.ptr<std::uint8_t>(), mask.ptr<std::uint8_t>() + mask.total());
    for (const Region& g : det.regions)
      r.regions.push_back({g.box.x, g.box.y, g.box.width, g.box.height, g.area, g.max_score, g.mean_score});
    r.anomalous = det.anomalous;
    r.score = det.score;
    r.image_score = det.image_score;
    r.threshold = impl_->threshold;
    return r;
  });
}

std::string Detector::profile_path() const { return impl_->profile->path; }
std::string Detector::category() const { return impl_->profile->category; }
std::string Detector::model_description() const { return impl_->loaded->model->describe(); }
double Detector::threshold() const { return impl_->threshold; }

std::string version() { return ADVAD_VERSION; }

}  // namespace advad
