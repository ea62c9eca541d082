#include "reproduce/report.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/error.h"
#include "data/image_io.h"
#include "metrics/plot_text.h"
#include "reproduce/step_record.h"

namespace advad::reproduce {
namespace fs = std::filesystem;

namespace {

struct Metrics {
  double au_pro_005 = NAN, au_pro_03 = NAN, seg_f1 = NAN, class_f1 = NAN, pixel_auroc = NAN, image_auroc = NAN;
  bool ok = false;
};

double num(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : NAN;
}

Metrics read_eval(const std::string& file) {
  Metrics m;
  std::ifstream f(file);
  if (!f) return m;
  try {
    const auto j = nlohmann::json::parse(f);
    const auto& o = j.at("objects").at(0);
    if (o.contains("au_pro")) {
      m.au_pro_005 = num(o.at("au_pro"), "0.05");
      m.au_pro_03 = num(o.at("au_pro"), "0.3");
    }
    m.seg_f1 = num(o, "seg_f1");
    m.class_f1 = num(o, "class_f1");
    m.pixel_auroc = num(o, "pixel_auroc");
    m.image_auroc = num(o, "image_auroc");
    m.ok = true;
  } catch (const std::exception&) {
  }
  return m;
}

// A figure already in percent, two decimals; "–" where there is none.
std::string fig(double v) { return std::isnan(v) ? "–" : cv::format("%.2f", v); }
// A fraction shown in percent.
std::string pct(double v) { return fig(100 * v); }

// Grouped bars, one group per category: AU-PRO@0.05, SegF1, ClassF1, I-AUROC
// (test_public), and the seed's SegF1 on test_private as a black tick.
void plot_bars(const std::vector<std::string>& names, const std::vector<Metrics>& ms,
               const std::map<std::string, SeedFigures>& seed, const std::string& png) {
  const int groups = static_cast<int>(names.size());
  const int bar = 14, gap = 18, L = 50, T = 50, B = 80, H = 420;
  const int W = std::max(520, L + groups * (4 * bar + gap) + 30);
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  auto Y = [&](double f) { return H - B - static_cast<int>(f * (H - T - B)); };
  for (int i = 0; i <= 4; ++i) {
    cv::line(img, {L, Y(i / 4.0)}, {W - 20, Y(i / 4.0)}, cv::Scalar(225, 225, 225), 1);
    plot_text(img, cv::format("%d", 25 * i), {12, Y(i / 4.0) + 4}, 0.4, cv::Scalar(0, 0, 0));
  }
  const cv::Scalar colours[4] = {{180, 110, 30}, {40, 140, 240}, {60, 170, 60}, {150, 80, 160}};
  const char* labels[4] = {"AU-PRO@0.05", "SegF1", "ClassF1", "I-AUROC"};
  for (int g = 0; g < groups; ++g) {
    const int x0 = L + 10 + g * (4 * bar + gap);
    const double v[4] = {ms[g].au_pro_005, ms[g].seg_f1, ms[g].class_f1, ms[g].image_auroc};
    for (int b = 0; b < 4; ++b)
      if (!std::isnan(v[b])) cv::rectangle(img, {x0 + b * bar, Y(v[b])}, {x0 + (b + 1) * bar - 2, Y(0)}, colours[b], cv::FILLED);
    const auto s = seed.find(names[g]);
    if (s != seed.end() && !std::isnan(s->second.segf1_private)) {
      const int y = Y(s->second.segf1_private / 100);
      cv::line(img, {x0 + bar - 4, y}, {x0 + 2 * bar + 2, y}, cv::Scalar(0, 0, 0), 2);
    }
    plot_text(img, names[g].substr(0, 11), {x0 - 4, H - B + 16 + (g % 2) * 14}, 0.38, cv::Scalar(0, 0, 0));
  }
  int lx = L;
  for (int b = 0; b < 4; ++b) {
    cv::rectangle(img, {lx, 14}, {lx + 10, 24}, colours[b], cv::FILLED);
    plot_text(img, labels[b], {lx + 14, 24}, 0.4, cv::Scalar(0, 0, 0));
    lx += 110;
  }
  plot_text(img, "black tick: the seed's SegF1 on test_private", {L, 42}, 0.4, cv::Scalar(0, 0, 0));
  plot_text(img, "percent, test_public of this run", {L, H - 14}, 0.4, cv::Scalar(0, 0, 0));
  write_image(png, img);
}

std::string rel(const std::string& path, const std::string& base) {
  return fs::relative(path, base).generic_string();
}

}  // namespace

std::vector<SeedFigures> read_seed_figures(const std::string& csv) {
  std::vector<SeedFigures> out;
  std::ifstream f(csv);
  if (!f) return out;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.empty() || line[0] == '#' || line.rfind("category", 0) == 0) continue;
    std::stringstream ss(line);
    std::string cell;
    std::vector<std::string> cells;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (cells.size() != 5)
      throw InputError(csv + ":" + std::to_string(n) + ": expected 5 comma-separated fields "
                       "(category, AU-PRO@0.05 private, mixed, SegF1 private, mixed), got " +
                       std::to_string(cells.size()));
    SeedFigures s;
    s.category = cells[0];
    double* dst[4] = {&s.au_pro_private, &s.au_pro_mixed, &s.segf1_private, &s.segf1_mixed};
    for (int i = 0; i < 4; ++i) {
      try {
        *dst[i] = cells[i + 1].empty() ? NAN : std::stod(cells[i + 1]);
      } catch (const std::exception&) {
        throw InputError(csv + ":" + std::to_string(n) + ": '" + cells[i + 1] + "' is not a number");
      }
    }
    out.push_back(s);
  }
  return out;
}

std::string write_report(const ReproduceOptions& o, const std::vector<CategoryReport>& cats,
                         const std::vector<StepOutcome>& steps) {
  std::map<std::string, SeedFigures> seed;
  for (const auto& s : read_seed_figures((fs::path(o.profiles) / "seed_results.csv").string())) seed[s.category] = s;
  std::vector<Metrics> ms;
  std::vector<std::string> names;
  for (const auto& c : cats) {
    ms.push_back(read_eval((fs::path(c.dir) / "eval.json").string()));
    names.push_back(c.name);
  }
  const std::string md = (fs::path(o.out) / "report.md").string();
  std::ostringstream r;
  r << "# advad reproduce: report\n\n"
    << "- dataset: `" << o.dataset << "`\n- profiles: `" << o.profiles << "`\n"
    << "- threshold: advad calibrate rule `" << o.rule << "` on `validation` (no test image chooses a threshold)\n"
    << "- device: " << o.device << "\n- written: " << iso_now() << "\n";
  if (!o.overrides.empty()) {
    r << "- overrides:";
    for (const auto& ov : o.overrides) r << " `" << ov.text << "`";
    r << "\n";
  }
  if (!o.packages.empty()) r << "- packages: `" << o.packages << "` (used instead of training where present)\n";
  r << "\n## Results (test_public, this run) and the seed's published figures\n\n"
    << "The seed's figures are from its report (TEST_priv / TEST_priv,mix, scored by the challenge server); "
       "this run's are on test_public, whose ground truth ships with the dataset, so the two are not the same "
       "images. All in percent.\n\n"
    << "| category | method | threshold | AU-PRO@0.05 | AU-PRO@0.3 | SegF1 | ClassF1 | P-AUROC | I-AUROC | seed "
       "AU-PRO@0.05 priv / mix | seed SegF1 priv / mix |\n"
    << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  double sums[6] = {0, 0, 0, 0, 0, 0};
  int counts[6] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < cats.size(); ++i) {
    const auto& c = cats[i];
    const Metrics& m = ms[i];
    const auto s = seed.find(c.name);
    const double vals[6] = {m.au_pro_005, m.au_pro_03, m.seg_f1, m.class_f1, m.pixel_auroc, m.image_auroc};
    for (int k = 0; k < 6; ++k)
      if (!std::isnan(vals[k])) sums[k] += vals[k], counts[k]++;
    r << "| " << c.name << " | " << c.method << " | " << (c.threshold ? cv::format("%.4g", *c.threshold) : "–") << " | "
      << pct(m.au_pro_005) << " | " << pct(m.au_pro_03) << " | " << pct(m.seg_f1) << " | " << pct(m.class_f1) << " | "
      << pct(m.pixel_auroc) << " | " << pct(m.image_auroc) << " | "
      << (s != seed.end() ? fig(s->second.au_pro_private) + " / " + fig(s->second.au_pro_mixed) : "–") << " | "
      << (s != seed.end() ? fig(s->second.segf1_private) + " / " + fig(s->second.segf1_mixed) : "–") << " |\n";
  }
  auto mean_of = [&](int k) { return counts[k] ? sums[k] / counts[k] : NAN; };
  // The same numbers for scripts (fractions, full precision).
  {
    std::ofstream csv((fs::path(o.out) / "summary.csv").string());
    csv << "category,method,threshold,au_pro_0.05,au_pro_0.3,seg_f1,class_f1,pixel_auroc,image_auroc\n";
    auto v = [](double x) { return std::isnan(x) ? std::string() : cv::format("%.6f", x); };
    for (size_t i = 0; i < cats.size(); ++i)
      csv << cats[i].name << "," << cats[i].method << "," << (cats[i].threshold ? v(*cats[i].threshold) : "") << ","
          << v(ms[i].au_pro_005) << "," << v(ms[i].au_pro_03) << "," << v(ms[i].seg_f1) << "," << v(ms[i].class_f1)
          << "," << v(ms[i].pixel_auroc) << "," << v(ms[i].image_auroc) << "\n";
    csv << "mean,,," << v(mean_of(0)) << "," << v(mean_of(1)) << "," << v(mean_of(2)) << "," << v(mean_of(3)) << ","
        << v(mean_of(4)) << "," << v(mean_of(5)) << "\n";
  }
  r << "| **mean** | | | " << pct(mean_of(0)) << " | " << pct(mean_of(1)) << " | " << pct(mean_of(2)) << " | "
    << pct(mean_of(3)) << " | " << pct(mean_of(4)) << " | " << pct(mean_of(5)) << " | | |\n\n";
  plot_bars(names, ms, seed, (fs::path(o.out) / "report_metrics.png").string());
  r << "![metrics per category](report_metrics.png)\n\n";

  // Steps: one row per category, one column per step.
  std::vector<std::string> cols;
  for (const auto& s : steps)
    if (!s.category.empty() && std::find(cols.begin(), cols.end(), s.step) == cols.end()) cols.push_back(s.step);
  r << "## Steps\n\n| category |";
  for (const auto& c : cols) r << " " << c << " |";
  r << "\n|---|";
  for (size_t i = 0; i < cols.size(); ++i) r << "---|";
  r << "\n";
  for (const auto& c : cats) {
    r << "| " << c.name << " |";
    for (const auto& col : cols) {
      std::string st = "–";
      for (const auto& s : steps)
        if (s.category == c.name && s.step == col) st = s.status;
      r << " " << st << " |";
    }
    r << "\n";
  }
  for (const auto& s : steps)
    if (s.category.empty()) r << "\nRun-wide: " << s.step << ": " << s.status << (s.detail.empty() ? "" : " (" + s.detail + ")") << "\n";
  bool any = false;
  for (const auto& s : steps) {
    if (s.status != "failed" && s.status != "partial" && s.status != "blocked" && !s.skipped_inputs) continue;
    if (!any) r << "\n## Problems\n\n";
    any = true;
    r << "- " << (s.category.empty() ? "" : s.category + " ") << s.step << " **" << s.status << "**: " << s.detail << "\n";
  }
  if (fs::exists(fs::path(o.out) / "submission.tar.gz"))
    r << "\nSubmission: `submission.tar.gz` (checked like the official checker before packing).\n";

  r << "\n## Per category\n";
  for (const auto& c : cats) {
    r << "\n### " << c.name << "\n\n";
    const fs::path figs = fs::path(c.dir) / "figures";
    for (const auto& [file, what] : std::vector<std::pair<fs::path, std::string>>{
             {fs::path(c.dir) / "calibration.png", "calibration on validation"},
             {figs / "threshold_f1.png", "pixel F1 vs threshold on test_public"},
             {fs::path(c.dir) / "pro_curve.png", "PRO curve on test_public"}})
      if (fs::exists(file)) r << "![" << what << "](" << rel(file.string(), o.out) << ") ";
    r << "\n\n";
    for (int i = 1; i <= o.examples; ++i) {
      const fs::path ex = figs / ("example_" + std::to_string(i) + ".png");
      if (fs::exists(ex)) r << "![example " << i << "](" << rel(ex.string(), o.out) << ")\n";
    }
    if (fs::exists(figs / "example_1.png"))
      r << "\nExamples: the image with its ground truth (green) | the anomaly map over it with the binary map (red).\n";
  }
  std::ofstream f(md);
  if (!(f << r.str())) throw InputError("cannot write the report '" + md + "'");
  return md;
}

}  // namespace advad::reproduce
