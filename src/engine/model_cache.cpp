#include "engine/model_cache.h"

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "engine/model_factory.h"

namespace fs = std::filesystem;

namespace advad {

namespace {

// Serialises score() of a model shared by several elements.
class SerializedModel : public Model {
 public:
  explicit SerializedModel(std::unique_ptr<Model> inner) : inner_(std::move(inner)) {}
  ScoredBatch score(const torch::Tensor& batch, const std::vector<cv::Size>& out_sizes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inner_->score(batch, out_sizes);
  }
  torch::Device device() const override { return inner_->device(); }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<Model> inner_;
  std::mutex mutex_;
};

std::string file_digest(const fs::path& file) {
  struct Known {
    uintmax_t size;
    fs::file_time_type mtime;
    std::string digest;
  };
  static std::mutex mutex;
  static std::map<std::string, Known> known;
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) return "missing";
  const fs::file_time_type mtime = fs::last_write_time(file, ec);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = known.find(file.string());
    if (it != known.end() && it->second.size == size && it->second.mtime == mtime) return it->second.digest;
  }
  GChecksum* sum = g_checksum_new(G_CHECKSUM_SHA256);
  std::ifstream in(file, std::ios::binary);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) g_checksum_update(sum, reinterpret_cast<const guchar*>(buf.data()), in.gcount());
  }
  std::string digest = g_checksum_get_string(sum);
  g_checksum_free(sum);
  std::lock_guard<std::mutex> lock(mutex);
  known[file.string()] = Known{size, mtime, digest};
  return digest;
}

std::vector<fs::path> model_files(const std::string& model) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(model, ec)) {
    for (const auto& e : fs::recursive_directory_iterator(model, ec))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(model);
  }
  return files;
}

struct Slot {
  std::mutex loading;  // one load per key at a time; other keys load in parallel
  std::weak_ptr<const LoadedModel> model;
};
std::mutex cache_mutex;
std::map<std::string, std::shared_ptr<Slot>> cache;

}  // namespace

std::string model_identity(const Profile& profile) {
  GChecksum* sum = g_checksum_new(G_CHECKSUM_SHA256);
  auto add = [&](const std::string& s) { g_checksum_update(sum, reinterpret_cast<const guchar*>(s.data()), s.size()); };
  if (!profile.path.empty()) add(file_digest(profile.path));
  for (const auto& f : model_files(profile.model)) {
    add(f.filename().string());
    add(file_digest(f));
  }
  const std::string hex = g_checksum_get_string(sum);
  g_checksum_free(sum);
  return profile.model + "@" + hex.substr(0, 12);
}

std::shared_ptr<const LoadedModel> acquire_model(std::shared_ptr<const Profile> profile,
                                                 const ModelOptions& options, bool* from_cache) {
  const std::string identity = model_identity(*profile);
  const std::string key = profile->path + "|" + identity + "|" + options.device + "|" + options.precision;
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    for (auto it = cache.begin(); it != cache.end();)  // forget the slots of freed models
      it = it->second->model.expired() && it->second.use_count() == 1 ? cache.erase(it) : std::next(it);
    auto& s = cache[key];
    if (!s) s = std::make_shared<Slot>();
    slot = s;
  }
  std::lock_guard<std::mutex> lock(slot->loading);
  if (from_cache) *from_cache = true;
  if (auto alive = slot->model.lock()) return alive;
  if (from_cache) *from_cache = false;
  const auto t0 = std::chrono::steady_clock::now();
  auto loaded = std::make_shared<LoadedModel>();
  loaded->profile = profile;
  loaded->model = std::make_shared<SerializedModel>(create_model(*profile, options));
  loaded->identity = identity;
  loaded->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  slot->model = loaded;
  return loaded;
}

size_t cached_model_count() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  size_t n = 0;
  for (const auto& [key, slot] : cache) n += slot->model.expired() ? 0 : 1;
  return n;
}

}  // namespace advad
