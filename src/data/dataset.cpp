#include "data/dataset.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/image_list.h"

namespace advad {
namespace fs = std::filesystem;
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

void require_dir(const fs::path& p, const std::string& what) {
  if (!fs::exists(p)) throw InputError(what + " folder " + p.string() + " does not exist");
  if (!fs::is_directory(p)) throw InputError(what + " " + p.string() + " is not a folder");
}

// Image files directly inside dir, sorted by name (data/image_list.h's rule).
std::vector<fs::path> images_in(const fs::path& dir) { return list_images(dir); }

// Sub-folders of dir, sorted by name.
std::vector<std::string> subdirs_of(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The mask of `image` in mask_dir: <stem>_mask.png (any image extension accepted).
std::string find_mask(const fs::path& mask_dir, const fs::path& image) {
  const std::string stem = image.stem().string();
  fs::path png = mask_dir / (stem + "_mask.png");
  if (fs::exists(png)) return png.string();
  if (fs::is_directory(mask_dir))
    for (const auto& e : fs::directory_iterator(mask_dir))
      if (e.path().stem().string() == stem + "_mask" && is_image_file(e.path().string())) return e.path().string();
  throw InputError("anomalous image " + image.string() + " has no ground-truth mask: expected " + png.string());
}

void add_folder(SplitListing& out, const fs::path& dir, const std::string& rel_prefix, const std::string& defect,
                bool labelled, bool anomalous, const fs::path& mask_dir) {
  for (const auto& img : images_in(dir)) {
    Sample s;
    s.image = img.string();
    s.rel = rel_prefix + "/" + img.stem().string();
    s.defect = defect;
    s.labelled = labelled;
    s.anomalous = anomalous;
    if (anomalous) s.mask = find_mask(mask_dir, img);
    out.samples.push_back(std::move(s));
  }
}

}  // namespace

std::string to_string(DatasetLayout layout) { return layout == DatasetLayout::MvtecAD2 ? "mvtec_ad2" : "mvtec_ad"; }

bool is_image_file(const std::string& path) { return has_image_extension(path); }

size_t SplitListing::count_anomalous() const {
  return static_cast<size_t>(std::count_if(samples.begin(), samples.end(), [](const Sample& s) { return s.labelled && s.anomalous; }));
}
size_t SplitListing::count_labelled() const {
  return static_cast<size_t>(std::count_if(samples.begin(), samples.end(), [](const Sample& s) { return s.labelled; }));
}

std::vector<std::string> splits_of(DatasetLayout layout) {
  if (layout == DatasetLayout::MvtecAD2) return {"train", "validation", "test_public", "test_private", "test_private_mixed"};
  return {"train", "test"};
}

DatasetLayout detect_layout(const std::string& root, const std::string& category) {
  require_dir(root, "dataset root");
  const fs::path cat = fs::path(root) / category;
  require_dir(cat, "category '" + category + "'");
  for (const char* d : {"test_public", "validation", "test_private", "test_private_mixed"})
    if (fs::is_directory(cat / d)) return DatasetLayout::MvtecAD2;
  if (fs::is_directory(cat / "test") || fs::is_directory(cat / "ground_truth")) return DatasetLayout::MvtecAD;
  throw InputError("category folder " + cat.string() +
                   " is neither MVTec AD 2 (train/, validation/, test_public/, test_private/, test_private_mixed/) "
                   "nor MVTec AD (train/, test/, ground_truth/)");
}

std::vector<std::string> list_categories(const std::string& root) {
  require_dir(root, "dataset root");
  std::vector<std::string> out;
  for (const auto& name : subdirs_of(root))
    if (fs::is_directory(fs::path(root) / name / "train") || fs::is_directory(fs::path(root) / name / "test_private") ||
        fs::is_directory(fs::path(root) / name / "test_public") || fs::is_directory(fs::path(root) / name / "test"))
      out.push_back(name);
  return out;
}

SplitListing list_split(const std::string& root, const std::string& category, const std::string& split) {
  SplitListing out;
  out.root = root;
  out.category = category;
  out.split = split;
  out.layout = detect_layout(root, category);
  const auto valid = splits_of(out.layout);
  if (std::find(valid.begin(), valid.end(), split) == valid.end())
    throw InputError("unknown split '" + split + "' for the " + to_string(out.layout) + " layout of " +
                     (fs::path(root) / category).string() + "; valid splits: " + join(valid));
  const fs::path cat = fs::path(root) / category;
  const fs::path dir = cat / split;
  require_dir(dir, "split '" + split + "'");
  const std::string rel = category + "/" + split;

  if (out.layout == DatasetLayout::MvtecAD2) {
    if (split == "test_private" || split == "test_private_mixed") {
      add_folder(out, dir, rel, "", false, false, {});
    } else {
      require_dir(dir / "good", "split '" + split + "'");
      add_folder(out, dir / "good", rel + "/good", "good", true, false, {});
      if (split == "test_public") {
        require_dir(dir / "bad", "split 'test_public'");
        require_dir(dir / "ground_truth" / "bad", "ground truth");
        add_folder(out, dir / "bad", rel + "/bad", "bad", true, true, dir / "ground_truth" / "bad");
      }
    }
  } else {
    if (split == "train") {
      require_dir(dir / "good", "split 'train'");
      add_folder(out, dir / "good", rel + "/good", "good", true, false, {});
    } else {
      for (const auto& defect : subdirs_of(dir)) {
        const bool bad = defect != "good";
        if (bad) require_dir(cat / "ground_truth" / defect, "ground truth of defect '" + defect + "'");
        add_folder(out, dir / defect, rel + "/" + defect, defect, true, bad, cat / "ground_truth" / defect);
      }
    }
  }
  if (out.samples.empty())
    throw InputError("split folder " + dir.string() + " holds no images (.png/.jpg/.bmp/.tif)");
  std::sort(out.samples.begin(), out.samples.end(), [](const Sample& a, const Sample& b) { return a.rel < b.rel; });
  return out;
}

}  // namespace advad
