// The synthetic MVTec AD 2 writer: folders, file names, per-split counts,
// private ground truth and contact sheets. The images come from sample.h.
#include "data/synth_ad2/synth_ad2.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "data/image_io.h"
#include "data/synth_ad2/contact_sheet.h"
#include "data/synth_ad2/sample.h"

namespace advad {
namespace fs = std::filesystem;
using synth_ad2::Split;

namespace {

std::string idx3(int i) {
  std::string s = std::to_string(i);
  return std::string(s.size() < 3 ? 3 - s.size() : 0, '0') + s;
}

void save(const fs::path& path, const cv::Mat& img) { write_rgb_image(path.string(), img); }

void check_count(const char* what, int n, int lo) {
  if (n < lo || n > 999)
    throw InputError(std::string("synthetic MVTec AD 2: ") + what + " must be in [" + std::to_string(lo) +
                     ", 999], got " + std::to_string(n));
}

bool non_empty_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::directory_iterator(p, ec) != fs::directory_iterator();
}

std::vector<const synth_ad2::CategoryDef*> resolve(const std::vector<std::string>& names) {
  std::vector<const synth_ad2::CategoryDef*> out;
  if (names.empty()) {
    for (const auto& c : synth_ad2::categories()) out.push_back(&c);
    return out;
  }
  for (const auto& n : names) {
    const auto* c = synth_ad2::find_category(n);
    if (!c) {
      std::string all;
      for (const auto& k : synthetic_ad2_categories()) all += (all.empty() ? "" : ", ") + k;
      throw InputError("synthetic MVTec AD 2: unknown category '" + n + "'; known: " + all);
    }
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& synthetic_ad2_categories() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& c : synth_ad2::categories()) v.push_back(c.name);
    return v;
  }();
  return names;
}

std::pair<int, int> synthetic_ad2_size(const std::string& category, int long_side) {
  const auto cats = resolve({category});
  const cv::Size s = synth_ad2::category_size(*cats[0], long_side);
  return {s.width, s.height};
}

int synthetic_ad2_min_tile(const std::string& category, int long_side) {
  const auto cats = resolve({category});
  const cv::Size s = synth_ad2::category_size(*cats[0], long_side);
  return std::min(s.width / cats[0]->grid_cols, s.height / cats[0]->grid_rows);
}

SynthAd2Result write_synthetic_mvtec_ad2(const std::string& root, const SynthAd2Spec& spec) {
  if (spec.long_side < 64 || spec.long_side > 4096)
    throw InputError("synthetic MVTec AD 2: long side must be in [64, 4096], got " + std::to_string(spec.long_side));
  check_count("train", spec.n_train, 1);
  check_count("validation", spec.n_validation, 1);
  check_count("test_good", spec.n_test_good, 0);
  check_count("test_bad", spec.n_test_bad, 1);
  check_count("private", spec.n_private, 1);
  const auto cats = resolve(spec.categories);
  const fs::path base(root), gt_base = base / "_private_ground_truth";
  // Refuse before writing anything.
  if (!spec.overwrite)
    for (const auto* c : cats)
      if (non_empty_dir(base / c->name) || non_empty_dir(gt_base / c->name))
        throw InputError("synthetic MVTec AD 2: " + (base / c->name).string() +
                         " is not empty; remove it or overwrite it (advad synth mvtec-ad2 --force)");

  SynthAd2Result result;
  result.root = root;
  for (const auto* c : cats) {
    const fs::path dir = base / c->name, gt = gt_base / c->name;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::remove_all(gt, ec);
    fs::create_directories(dir, ec);
    if (ec) throw InputError("cannot create " + dir.string() + ": " + ec.message());
    const cv::Size size = synth_ad2::category_size(*c, spec.long_side);
    SynthAd2Category info;
    info.name = c->name;
    info.folder = dir.string();
    info.private_ground_truth = gt.string();
    info.width = size.width;
    info.height = size.height;
    info.gray = c->gray;
    const int total = spec.n_train + spec.n_validation + spec.n_test_good + spec.n_test_bad + 2 * spec.n_private;
    int done = 0;
    auto render = [&](Split split, int i, bool defect) {
      synth_ad2::Sample s = synth_ad2::render_sample(*c, size, spec.seed, split, i, defect);
      if (defect && cv::countNonZero(s.mask) == 0)
        throw std::logic_error(std::string("synthetic MVTec AD 2: no defect could be planted in ") + c->name);
      if (spec.progress) spec.progress(c->name, ++done, total);
      return s;
    };

    for (int i = 0; i < spec.n_train; ++i) save(dir / "train/good" / (idx3(i) + "_regular.png"), render(Split::Train, i, false).image);
    for (int i = 0; i < spec.n_validation; ++i)
      save(dir / "validation/good" / (idx3(i) + "_regular.png"), render(Split::Validation, i, false).image);
    cv::Mat sheet_good, sheet_bad, sheet_mask;
    for (int i = 0; i < spec.n_test_good; ++i) {
      const auto s = render(Split::TestGood, i, false);
      save(dir / "test_public/good" / (idx3(i) + "_" + s.condition + ".png"), s.image);
      if (i == 0) sheet_good = s.image;
    }
    for (int i = 0; i < spec.n_test_bad; ++i) {
      const auto s = render(Split::TestBad, i, true);
      const std::string stem = idx3(i) + "_" + s.condition;
      save(dir / "test_public/bad" / (stem + ".png"), s.image);
      save(dir / "test_public/ground_truth/bad" / (stem + "_mask.png"), s.mask);
      if (i == 0) sheet_bad = s.image, sheet_mask = s.mask;
    }
    const std::vector<bool> bad = synth_ad2::private_defects(*c, spec.seed, spec.n_private);
    for (int i = 0; i < spec.n_private; ++i) {
      const bool d = bad[static_cast<size_t>(i)];
      info.n_private_bad += d ? 1 : 0;
      for (Split split : {Split::Private, Split::PrivateMixed}) {
        const auto s = render(split, i, d);
        const std::string folder = split == Split::Private ? "test_private" : "test_private_mixed";
        const std::string stem = idx3(i) + (split == Split::Private ? "_regular" : "_mixed");
        save(dir / folder / (stem + ".png"), s.image);
        if (d) save(gt / folder / (stem + "_mask.png"), s.mask);
      }
    }
    if (spec.contact_sheets) {
      if (sheet_good.empty()) sheet_good = render(Split::Train, 0, false).image, --done;
      const fs::path p = base / (std::string(c->name) + "_contact_sheet.png");
      write_image(p.string(), synth_ad2::contact_sheet(c->name, sheet_good, sheet_bad, sheet_mask));
      info.contact_sheet = p.string();
    }
    info.n_train = spec.n_train;
    info.n_validation = spec.n_validation;
    info.n_test_good = spec.n_test_good;
    info.n_test_bad = spec.n_test_bad;
    info.n_private = spec.n_private;
    result.categories.push_back(info);
  }
  return result;
}

}  // namespace advad
