#include "metrics/report.h"

#include <cmath>
#include <functional>
#include <cstdio>
#include <sstream>

namespace advad {
namespace {

struct Column {
  std::string name;
  std::function<double(const ObjectResult&)> value;  // fraction, NaN when missing
};

std::vector<Column> columns(const std::vector<ObjectResult>& results) {
  std::vector<Column> c;
  for (double l : limits_of(results))
    c.push_back({"AU-PRO@" + limit_text(l), [l](const ObjectResult& r) { return r.pixel.au_pro_at(l); }});
  c.push_back({"SegF1", [](const ObjectResult& r) { return r.seg_f1(); }});
  c.push_back({"ClassF1", [](const ObjectResult& r) { return r.class_f1(); }});
  c.push_back({"I-AUROC", [](const ObjectResult& r) { return r.image_auroc; }});
  c.push_back({"P-AUROC", [](const ObjectResult& r) { return r.pixel.pixel_auroc; }});
  return c;
}

double mean_of(const std::vector<ObjectResult>& rs, const Column& c) {
  double s = 0;
  int n = 0;
  for (const auto& r : rs) {
    const double v = c.value(r);
    if (!std::isnan(v)) {
      s += v;
      ++n;
    }
  }
  return n ? s / n : NAN;
}

std::string pct(double v) {
  if (std::isnan(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", 100.0 * v);
  return b;
}

std::string full(double v) {
  if (std::isnan(v)) return "";
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

nlohmann::json num(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

}  // namespace

std::string limit_text(double limit) {
  for (int prec = 1; prec < 18; ++prec) {
    char b[40];
    std::snprintf(b, sizeof b, "%.*g", prec, limit);
    if (std::stod(b) == limit) return b;
  }
  return std::to_string(limit);
}

std::vector<double> limits_of(const std::vector<ObjectResult>& results) {
  std::vector<double> l;
  if (!results.empty())
    for (const auto& [lim, v] : results.front().pixel.au_pro) l.push_back(lim);
  return l;
}

std::string format_table(const std::vector<ObjectResult>& results, TableStyle style) {
  const auto cols = columns(results);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head{"object", "images"};
  for (const auto& c : cols) head.push_back(style == TableStyle::Csv ? c.name : c.name + " %");
  for (const auto& r : results) {
    std::vector<std::string> row{r.object, std::to_string(r.images) + " (" + std::to_string(r.anomalous_images) + " bad)"};
    if (style == TableStyle::Csv) row[1] = std::to_string(r.images);
    for (const auto& c : cols) row.push_back(style == TableStyle::Csv ? full(c.value(r)) : pct(c.value(r)));
    rows.push_back(row);
  }
  std::vector<std::string> mean{"mean", ""};
  for (const auto& c : cols) mean.push_back(style == TableStyle::Csv ? full(mean_of(results, c)) : pct(mean_of(results, c)));
  rows.push_back(mean);

  std::ostringstream os;
  if (style == TableStyle::Csv) {
    head.insert(head.begin() + 2, "anomalous_images");
    auto line = [&](const std::vector<std::string>& v) {
      for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
      os << "\n";
    };
    line(head);
    for (size_t i = 0; i < rows.size(); ++i) {
      auto v = rows[i];
      v.insert(v.begin() + 2, i < results.size() ? std::to_string(results[i].anomalous_images) : "");
      line(v);
    }
    return os.str();
  }
  std::vector<size_t> w(head.size());
  for (size_t i = 0; i < head.size(); ++i) {
    w[i] = head[i].size();
    for (const auto& r : rows) w[i] = std::max(w[i], r[i].size());
  }
  auto cell = [&](const std::string& s, size_t i) {
    const std::string pad(w[i] - s.size(), ' ');
    return i < 2 ? s + pad : pad + s;  // text left, numbers right
  };
  if (style == TableStyle::Markdown) {
    auto line = [&](const std::vector<std::string>& v) {
      os << "|";
      for (size_t i = 0; i < v.size(); ++i) os << " " << cell(v[i], i) << " |";
      os << "\n";
    };
    line(head);
    os << "|";
    for (size_t i = 0; i < w.size(); ++i) os << " " << (i < 2 ? std::string(w[i], '-') : std::string(w[i] - 1, '-') + ":") << " |";
    os << "\n";
    for (const auto& r : rows) line(r);
    return os.str();
  }
  auto line = [&](const std::vector<std::string>& v) {
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "  " : "") << cell(v[i], i);
    os << "\n";
  };
  line(head);
  size_t total = 0;
  for (size_t x : w) total += x + 2;
  const std::string rule(total - 2, '-');
  os << rule << "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + 1 == rows.size()) os << rule << "\n";
    line(rows[i]);
  }
  return os.str();
}

nlohmann::json results_to_json(const std::vector<ObjectResult>& results, const std::string& mode) {
  using nlohmann::json;
  json j;
  j["split"] = results.empty() ? "" : results.front().split;
  j["pixel_mode"] = mode;
  j["objects"] = json::array();
  for (const auto& r : results) {
    json o;
    o["object"] = r.object;
    o["split"] = r.split;
    o["images"] = r.images;
    o["anomalous_images"] = r.anomalous_images;
    o["normal_pixels"] = r.pixel.normal_pixels;
    o["defect_pixels"] = r.pixel.defect_pixels;
    o["regions"] = r.pixel.regions;
    o["distinct_scores"] = r.pixel.distinct_scores;
    o["au_pro"] = json::object();
    for (const auto& [l, v] : r.pixel.au_pro) o["au_pro"][limit_text(l)] = num(v);
    o["seg_f1"] = num(r.seg_f1());
    o["class_f1"] = num(r.class_f1());
    o["image_auroc"] = num(r.image_auroc);
    o["pixel_auroc"] = num(r.pixel.pixel_auroc);
    if (r.has_binary) {
      o["seg_counts"] = {{"tp", r.seg.tp}, {"fp", r.seg.fp}, {"fn", r.seg.fn}};
      o["class_counts"] = {{"tp", r.cls.tp}, {"fp", r.cls.fp}, {"fn", r.cls.fn}, {"tn", r.cls.tn}};
    }
    j["objects"].push_back(o);
  }
  // The mean over objects, with the keys of an object entry.
  auto mean = [&](double (*f)(const ObjectResult&)) { return num(mean_over(results, f)); };
  json m;
  m["au_pro"] = json::object();
  for (double l : limits_of(results)) {
    double s = 0;
    int n = 0;
    for (const auto& r : results)
      if (!std::isnan(r.pixel.au_pro_at(l))) s += r.pixel.au_pro_at(l), ++n;
    m["au_pro"][limit_text(l)] = num(n ? s / n : NAN);
  }
  m["seg_f1"] = mean([](const ObjectResult& r) { return r.seg_f1(); });
  m["class_f1"] = mean([](const ObjectResult& r) { return r.class_f1(); });
  m["image_auroc"] = mean([](const ObjectResult& r) { return r.image_auroc; });
  m["pixel_auroc"] = mean([](const ObjectResult& r) { return r.pixel.pixel_auroc; });
  j["mean"] = m;
  return j;
}

}  // namespace advad
