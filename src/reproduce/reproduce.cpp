#include "reproduce/reproduce.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/profile.h"
#include "data/dataset.h"
#include "reproduce/child_process.h"
#include "reproduce/figures.h"
#include "reproduce/fingerprint.h"
#include "reproduce/report.h"
#include "reproduce/step_record.h"

namespace advad::reproduce {
namespace fs = std::filesystem;

int ReproduceResult::count(const std::string& status) const {
  return static_cast<int>(std::count_if(steps.begin(), steps.end(), [&](const StepOutcome& s) { return s.status == status; }));
}

int ReproduceResult::exit_code() const {
  if (count("failed") || count("blocked")) return 1;
  return std::any_of(steps.begin(), steps.end(), [](const StepOutcome& s) { return s.skipped_inputs; }) ? 3 : 0;
}

namespace {

const std::vector<std::string> kPredictSplits = {"test_public", "test_private", "test_private_mixed"};

std::string hms(double s) {
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

std::string file_name_of(const std::string& step) {
  std::string s = step;
  std::replace(s.begin(), s.end(), ' ', '_');
  return s;
}

// The step kinds share a time per item across categories (the estimate).
std::string kind_of(const std::string& step) { return step.substr(0, step.find(' ')); }

// The "skipping <file>: why" warnings of the latest run in a step's log (the
// log is appended to by every run; each run starts with "$ <command>").
std::string skipped_lines(const std::string& log, const std::string& fallback) {
  std::ifstream f(log);
  std::vector<std::string> hits;
  for (std::string l; std::getline(f, l);) {
    if (l.rfind("$ ", 0) == 0) hits.clear();
    if (l.find("warning: skipping ") != std::string::npos) hits.push_back(l.substr(l.find("skipping ")));
  }
  if (hits.empty()) return fallback;
  std::string out;
  for (size_t i = 0; i < hits.size() && i < 3; ++i) out += hits[i] + "\n";
  if (hits.size() > 3) out += "and " + std::to_string(hits.size() - 3) + " more\n";
  return out;
}

// The package --packages gives for a category: <DIR>/<category> when it is a
// package, or <DIR>/<category>/package (the run folder of an earlier
// reproduce, so variants can share one training); empty when there is none.
fs::path given_package(const ReproduceOptions& o, const std::string& category) {
  if (o.packages.empty()) return {};
  for (const fs::path& p : {fs::path(o.packages) / category, fs::path(o.packages) / category / "package"})
    if (fs::is_regular_file(p / "weights.pth")) return p;
  return {};
}

struct Category {
  std::string name, dir, package, run_profile, method, profile_text;
  std::map<std::string, long> images;  // split -> image count (0 when the split is missing)
  std::string listing_error;           // why the dataset folder cannot be listed
  std::optional<double> threshold;     // from calibration
  bool blocked = false;
  std::string blocked_by;
};

// One step about to run: its identity, what it depends on and how it runs.
struct Step {
  std::string name;
  long items = 0;
  Fingerprint fp;
  std::vector<std::string> outputs;        // must exist for the step to count as done
  std::vector<std::string> argv;           // a child command, or
  std::function<std::string()> in_process;  // work done here; returns a note
  bool force_on_change = false;            // predict: --force when its inputs changed
};

class Runner {
 public:
  Runner(const ReproduceOptions& o, std::ostream& log) : o_(o), log_(log) {}
  ReproduceResult run();

 private:
  void load_rates();
  void list_images(Category& c);
  std::vector<Category> plan_categories();
  // Runs or skips one step; returns the outcome's status.
  std::string execute(Category* c, Step s);
  void category_steps(Category& c);
  void submission_step(std::vector<Category>& cats);
  std::string record_path(const Category* c, const std::string& step) const {
    return ((c ? fs::path(c->dir) : fs::path(o_.out) / "_run") / "steps" / (file_name_of(step) + ".json")).string();
  }
  std::string log_path(const Category* c, const std::string& step) const {
    return ((c ? fs::path(c->dir) : fs::path(o_.out) / "_run") / "logs" / (file_name_of(step) + ".log")).string();
  }
  void print_estimate();

  const ReproduceOptions& o_;
  std::ostream& log_;
  ReproduceResult result_;
  std::map<std::string, std::pair<double, long>> rates_;  // kind -> seconds, items (measured)
  std::vector<std::pair<std::string, long>> pending_;     // step kind, items: not yet run (estimate)
  int step_no_ = 0, steps_total_ = 0;
};

void Runner::load_rates() {
  // Times of earlier runs in this folder seed the estimate.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(o_.out, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() != ".json" || it->path().parent_path().filename() != "steps") continue;
    const auto r = load_step_record(it->path().string());
    if (!r || r->status != "done" || r->items <= 0) continue;
    auto& [s, n] = rates_[kind_of(r->step)];
    s += r->seconds;
    n += r->items;
  }
}

void Runner::list_images(Category& c) {
  for (const auto& split : {"train", "validation", "test_public", "test_private", "test_private_mixed"}) {
    try {
      c.images[split] = static_cast<long>(list_split(o_.dataset, c.name, split).samples.size());
    } catch (const std::exception& e) {
      c.images[split] = 0;
      if (c.listing_error.empty()) c.listing_error = e.what();
    }
  }
}

std::vector<Category> Runner::plan_categories() {
  if (!fs::is_directory(o_.dataset))
    throw InputError("advad reproduce: dataset folder '" + o_.dataset + "' does not exist (give the MVTec AD 2 root)");
  if (!fs::is_directory(o_.profiles))
    throw InputError("advad reproduce: profiles folder '" + o_.profiles + "' does not exist (see --profiles)");
  std::vector<std::string> names = o_.categories;
  if (names.empty()) {
    for (const auto& e : fs::directory_iterator(o_.profiles))
      if (e.path().extension() == ".ini" && fs::is_directory(fs::path(o_.dataset) / e.path().stem()))
        names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    if (names.empty())
      throw InputError("advad reproduce: no category of '" + o_.profiles + "' has a folder in '" + o_.dataset +
                       "' (expected e.g. " + (fs::path(o_.dataset) / "can").string() + ")");
  }
  std::vector<Category> cats;
  for (const auto& n : names) {
    fs::path ini = fs::path(o_.profiles) / (n + ".ini");
    // A given package brings its own profile (architecture, input size, its
    // import's settings); the overrides still apply on top.
    const fs::path given = given_package(o_, n);
    if (!given.empty() && fs::is_regular_file(given / "profile.ini")) ini = given / "profile.ini";
    if (!fs::is_regular_file(ini))
      throw InputError("advad reproduce: category '" + n + "' has no profile '" + ini.string() + "'");
    Category c;
    c.name = n;
    c.dir = (fs::path(o_.out) / n).string();
    c.package = (fs::path(c.dir) / "package").string();
    c.run_profile = (fs::path(c.dir) / "profile.ini").string();
    c.profile_text = make_run_profile(ini.string(), o_.overrides, c.package, (fs::path(o_.dataset) / n).string());
    c.method = method_of(c.profile_text);
    // The run profile must load; a bad override is named here, before any work.
    const fs::path check = fs::path(o_.out) / "_run" / (n + ".check.ini");
    write_if_changed(check.string(), make_package_profile(c.profile_text, std::nullopt));
    try {
      (void)load_profile(check.string(), /*check_model_file=*/false);
    } catch (const std::exception& e) {
      throw InputError("advad reproduce: the run profile of '" + n + "' (" + ini.string() +
                       " with the overrides) does not load: " + e.what());
    }
    list_images(c);
    cats.push_back(std::move(c));
  }
  return cats;
}

void Runner::print_estimate() {
  double known = 0;
  int estimable = 0, unknown = 0;
  for (const auto& [kind, items] : pending_) {
    const auto it = rates_.find(kind);
    if (it == rates_.end() || it->second.second <= 0) {
      ++unknown;
      continue;
    }
    known += items * it->second.first / it->second.second;
    ++estimable;
  }
  if (pending_.empty()) return;
  if (!estimable) {
    log_ << "estimate: once a step of each kind has been measured\n";
    return;
  }
  log_ << "estimate: " << hms(known) << " for " << estimable << " remaining steps"
       << (unknown ? " (+ " + std::to_string(unknown) + " of a kind not measured yet)" : std::string()) << "\n";
}

std::string Runner::execute(Category* c, Step s) {
  StepOutcome out;
  out.category = c ? c->name : "";
  out.step = s.name;
  out.items = s.items;
  const std::string where = c ? c->name : "run";
  const std::string fp = s.fp.hex();
  const std::string rec_path = record_path(c, s.name);
  const auto rec = load_step_record(rec_path);
  auto outputs_fp = [&] {
    Fingerprint f;
    for (const auto& p : s.outputs) f.add_path(p);
    return f.hex();
  };
  const bool outputs_exist =
      std::all_of(s.outputs.begin(), s.outputs.end(), [](const std::string& p) { return fs::exists(p); });
  auto drop_pending = [&] {
    const auto it = std::find(pending_.begin(), pending_.end(), std::make_pair(kind_of(s.name), s.items));
    if (it != pending_.end()) pending_.erase(it);
  };
  if (c && c->blocked) {
    out.status = "blocked";
    out.detail = c->blocked_by;
    result_.steps.push_back(out);
    drop_pending();
    return out.status;
  }
  if (rec && outputs_exist && rec->up_to_date(fp, outputs_fp())) {
    out.status = "up to date";
    out.seconds = rec->seconds;
    if (rec->status == "partial") {
      out.skipped_inputs = true;
      const std::string first = rec->error.substr(0, rec->error.find('\n'));
      out.detail = "when it ran: " + first + " (log: " + log_path(c, s.name) + ")";
    }
    result_.steps.push_back(out);
    drop_pending();
    return out.status;
  }
  ++step_no_;
  if (o_.dry_run) {
    out.status = "planned";
    result_.steps.push_back(out);
    return out.status;
  }
  log_ << "[" << step_no_ << "/" << steps_total_ << " " << where << "] " << s.name
       << (s.items ? " (" + std::to_string(s.items) + " images)" : std::string()) << "\n";
  log_.flush();
  StepRecord r;
  r.step = s.name;
  r.fingerprint = fp;
  r.items = s.items;
  if (!s.argv.empty()) {
    // Inputs changed since the outputs were made: predict must not keep them.
    if (s.force_on_change && rec && rec->fingerprint != fp) s.argv.push_back("--force");
    r.command = shell_line(s.argv);
  }
  save_step_record(rec_path, r);
  ChildResult cr;
  if (!s.argv.empty()) {
    cr = run_child(s.argv, log_path(c, s.name), o_.echo);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      cr.tail = s.in_process();
      cr.exit_code = 0;
    } catch (const std::exception& e) {
      cr.tail = e.what();
      cr.exit_code = 1;
    }
    cr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  r.seconds = cr.seconds;
  r.exit_code = cr.exit_code;
  r.finished = iso_now();
  const bool made = std::all_of(s.outputs.begin(), s.outputs.end(), [](const std::string& p) { return fs::exists(p); });
  if ((cr.exit_code == 0 || cr.exit_code == 3) && made) {
    r.status = cr.exit_code == 0 ? "done" : "partial";
    if (cr.exit_code == 3) r.error = skipped_lines(log_path(c, s.name), cr.tail);
    out.status = cr.exit_code == 0 ? "ran" : "partial";
    out.skipped_inputs = cr.exit_code == 3;
  } else {
    r.status = "failed";
    r.error = cr.tail.empty() ? "exit code " + std::to_string(cr.exit_code) : cr.tail;
    if (cr.exit_code == 0 && !made) r.error = "finished without writing its outputs\n" + r.error;
    out.status = "failed";
  }
  r.outputs = outputs_fp();
  save_step_record(rec_path, r);
  out.seconds = cr.seconds;
  // The last lines say why; the log has everything.
  if (out.status != "ran") {
    std::string last;
    std::istringstream ls(r.error);
    for (std::string l; std::getline(ls, l);)
      if (!l.empty() && (last.empty() || out.status != "partial")) last = l;
    out.detail = last + " (log: " + log_path(c, s.name) + ")";
  }
  log_ << "  " << out.status << " in " << hms(out.seconds)
       << (s.items && out.seconds > 0 && out.status != "failed" ? " (" + std::to_string(out.seconds / s.items).substr(0, 5) + " s/image)" : "")
       << (out.detail.empty() ? "" : ": " + out.detail) << "\n";
  if (out.status != "failed" && s.items > 0 && r.status == "done") {
    auto& [sec, n] = rates_[kind_of(s.name)];
    sec += cr.seconds;
    n += s.items;
  }
  drop_pending();
  if (out.status == "failed" && c) {
    c->blocked = true;
    c->blocked_by = s.name + " failed";
  }
  result_.steps.push_back(out);
  if (!o_.dry_run) print_estimate();
  return out.status;
}

std::vector<std::string> child(const ReproduceOptions& o, std::vector<std::string> args) {
  args.insert(args.begin(), o.advad);
  return args;
}

void add_package_paths(Fingerprint& fp, const std::string& package) {
  // The model files; profile.ini is added by content where it matters.
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(package, ec))
    if (e.path().filename() != "profile.ini" && e.path().extension() != ".log") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  fp.add_text("package", package);
  for (const auto& f : files) fp.add_path(f);
}

std::optional<double> read_calibrated(const std::string& json_file, const std::string& rule) {
  std::ifstream f(json_file);
  if (!f) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(f);
    for (const auto& r : j.at("rules"))
      if (r.value("rule", "") == rule && r.at("threshold").is_number()) return r.at("threshold").get<double>();
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

void link_or_copy_package(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    if (!e.is_regular_file() || e.path().filename() == "profile.ini") continue;
    const fs::path dst = fs::path(to) / e.path().filename();
    std::error_code ec;
    fs::remove(dst, ec);
    fs::create_hard_link(e.path(), dst, ec);
    if (ec) fs::copy_file(e.path(), dst, fs::copy_options::overwrite_existing);
  }
}

void Runner::category_steps(Category& c) {
  const fs::path dir(c.dir);
  fs::create_directories(dir);
  write_if_changed(c.run_profile, c.profile_text);
  const std::string cal_json = (dir / "calibration.json").string();
  const std::string weights_any = (fs::path(c.package) / "weights.pth").string();
  if (!c.listing_error.empty() && c.images["train"] == 0) {
    c.blocked = true;
    c.blocked_by = c.listing_error;
  }

  // 1. The model: trained here, or a package the user gave.
  const fs::path given = given_package(o_, c.name);
  if (!given.empty()) {
    Step s;
    s.name = "package";
    s.fp.add_path(given.string());
    s.outputs = {weights_any};
    s.in_process = [&c, given] {
      link_or_copy_package(given.string(), c.package);
      return std::string("linked ") + given.string();
    };
    execute(&c, s);
  } else {
    Step s;
    s.name = "train";
    s.items = c.images["train"];
    s.fp.add_text("profile", training_part(c.profile_text));
    s.fp.add_path((fs::path(o_.dataset) / c.name / "train").string());
    s.fp.add_text("device", o_.device);
    s.outputs = {weights_any};
    s.argv = child(o_, {"train", c.run_profile, "--out", c.package, "--device", o_.device});
    // An interrupted training of the same settings goes on from its checkpoint.
    const auto rec = load_step_record(record_path(&c, "train"));
    if (rec && rec->fingerprint == s.fp.hex() && rec->status != "done" &&
        fs::exists(fs::path(c.package) / "checkpoint.pth"))
      s.argv.push_back("--resume");
    execute(&c, s);
  }

  // 2. The package's profile is the run profile (the one every later step
  // reads), with the calibrated threshold once there is one.
  auto cal_fp = [&] {
    Fingerprint fp;
    fp.add_text("profile", without_threshold(c.profile_text));
    add_package_paths(fp, c.package);
    fp.add_path((fs::path(o_.dataset) / c.name / "validation").string());
    fp.add_text("rule", o_.rule);
    return fp;
  };
  auto write_package_profile = [&] {
    if (!fs::is_directory(c.package)) return;
    std::vector<std::pair<std::string, std::string>> note;
    if (c.threshold)
      note = {{"rule", o_.rule}, {"data", (fs::path(o_.dataset) / c.name / "validation").string()},
              {"images", std::to_string(c.images["validation"])}};
    write_if_changed((fs::path(c.package) / "profile.ini").string(),
                     make_package_profile(c.profile_text, c.threshold, note));
  };
  {
    const auto rec = load_step_record(record_path(&c, "calibrate"));
    Fingerprint out;
    out.add_path(cal_json);
    if (rec && rec->up_to_date(cal_fp().hex(), out.hex())) c.threshold = read_calibrated(cal_json, o_.rule);
    write_package_profile();
  }

  // 3. Calibrate on validation: the rule's threshold, never a test image.
  {
    Step s;
    s.name = "calibrate";
    s.items = c.images["validation"];
    s.fp = cal_fp();
    s.outputs = {cal_json};
    s.argv = child(o_, {"calibrate", c.package, "--dataset", o_.dataset, "--category", c.name, "--split",
                        "validation", "--json", cal_json, "--plot", (dir / "calibration.png").string(), "--device",
                        o_.device});
    const std::string st = execute(&c, s);
    if (st == "ran" || st == "partial" || st == "up to date") {
      c.threshold = read_calibrated(cal_json, o_.rule);
      if (!c.threshold) {
        c.blocked = true;
        c.blocked_by = "calibration.json has no threshold for rule '" + o_.rule + "'";
      }
      write_package_profile();
    }
  }

  // 4. Predict and evaluate test_public, then predict the private splits.
  const std::string preds = (fs::path(o_.out) / "predictions").string();
  auto predict = [&](const std::string& split) {
    Step s;
    s.name = "predict " + split;
    s.items = c.images[split];
    s.fp.add_file_content((fs::path(c.package) / "profile.ini").string());
    add_package_paths(s.fp, c.package);
    s.fp.add_path((fs::path(o_.dataset) / c.name / split).string());
    s.outputs = {(fs::path(preds) / "anomaly_images" / c.name / split).string()};
    s.argv = child(o_, {"predict", c.package, "--dataset", o_.dataset, "--category", c.name, "--split", split, "--out",
                        preds, "--device", o_.device});
    s.force_on_change = true;
    return execute(&c, s);
  };
  predict("test_public");
  {
    Step s;
    s.name = "eval test_public";
    s.items = c.images["test_public"];
    s.fp.add_path((fs::path(preds) / "anomaly_images" / c.name / "test_public").string());
    s.fp.add_path((fs::path(preds) / "anomaly_images_thresholded" / c.name / "test_public").string());
    s.fp.add_path((fs::path(o_.dataset) / c.name / "test_public").string());
    s.outputs = {(dir / "eval.json").string()};
    s.argv = child(o_, {"eval", "--dataset", o_.dataset, "--maps", preds, "--categories", c.name, "--split",
                        "test_public", "--json", (dir / "eval.json").string(), "--plot",
                        (dir / "pro_curve.png").string()});
    execute(&c, s);
  }
  {
    Step s;
    s.name = "figures";
    s.items = 0;
    s.fp.add_path((fs::path(preds) / "anomaly_images" / c.name / "test_public").string());
    s.fp.add_text("threshold", c.threshold ? std::to_string(*c.threshold) : "");
    s.fp.add_text("examples", std::to_string(o_.examples));
    s.outputs = {(dir / "figures" / "threshold_f1.png").string()};
    s.in_process = [this, &c, preds] {
      FigureInputs in{o_.dataset, c.name, preds, c.package, (fs::path(c.dir) / "figures").string(),
                      c.threshold.value_or(0.5), o_.examples};
      return write_category_figures(in);
    };
    execute(&c, s);
  }
  predict("test_private");
  predict("test_private_mixed");
}

void Runner::submission_step(std::vector<Category>& cats) {
  const std::string preds = (fs::path(o_.out) / "predictions").string();
  const std::string sub = (fs::path(o_.out) / "submission").string();
  Step s;
  s.name = "submission";
  std::string objects, missing;
  for (auto& c : cats) {
    objects += (objects.empty() ? "" : ",") + c.name + ":" + std::to_string(c.images["test_private"]);
    s.items += c.images["test_private"] + c.images["test_private_mixed"];
    for (const auto& split : {"test_private", "test_private_mixed"}) {
      const auto rec = load_step_record(record_path(&c, std::string("predict ") + split));
      if (!rec || (rec->status != "done" && rec->status != "partial"))
        missing += (missing.empty() ? "" : ", ") + c.name + "/" + split;
      s.fp.add_path((fs::path(preds) / "anomaly_images" / c.name / split).string());
      s.fp.add_path((fs::path(preds) / "anomaly_images_thresholded" / c.name / split).string());
    }
  }
  s.outputs = {sub + ".tar.gz"};
  const std::string dataset = o_.dataset, advad = o_.advad;
  const std::string log = log_path(nullptr, "submission");
  const bool echo = o_.echo;
  s.in_process = [=] {
    std::error_code ec;
    fs::remove_all(sub, ec);  // no file of an earlier run stays in it
    fs::remove(sub + ".tar.gz", ec);
    for (const auto& argv : {std::vector<std::string>{advad, "submission", "write", preds, sub, "--objects", objects,
                                                      "--dataset", dataset},
                             std::vector<std::string>{advad, "submission", "pack", sub, "--objects", objects, "--dataset",
                                                      dataset, "--out", sub + ".tar.gz"}}) {
      const ChildResult r = run_child(argv, log, echo);
      if (!r.ok()) throw InputError("'" + shell_line(argv) + "' failed:\n" + r.tail);
    }
    return std::string("packed ") + sub + ".tar.gz";
  };
  for (const auto& c : cats)
    if (c.blocked) missing += (missing.empty() ? "" : ", ") + c.name + " (" + c.blocked_by + ")";
  if (!missing.empty() && !o_.dry_run) {
    StepOutcome out{"", "submission", "blocked", "no up-to-date predictions of " + missing};
    result_.steps.push_back(out);
    return;
  }
  execute(nullptr, s);
}

ReproduceResult Runner::run() {
  std::vector<Category> cats = plan_categories();
  load_rates();
  // The cost before anything starts.
  log_ << "advad reproduce: " << cats.size() << " categories of " << o_.dataset << " -> " << o_.out << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-9s %6s %6s %12s %8s %8s\n", "category", "method", "train", "valid",
                "test_public", "private", "mixed");
  log_ << line;
  long total_images = 0;
  for (auto& c : cats) {
    std::snprintf(line, sizeof line, "%-12s %-9s %6ld %6ld %12ld %8ld %8ld\n", c.name.c_str(), c.method.c_str(),
                  c.images["train"], c.images["validation"], c.images["test_public"], c.images["test_private"],
                  c.images["test_private_mixed"]);
    log_ << line;
    for (const auto& [split, n] : c.images) total_images += n;
    const bool train = given_package(o_, c.name).empty();
    if (train) pending_.push_back({"train", c.images["train"]});
    pending_.push_back({"calibrate", c.images["validation"]});
    for (const auto& split : kPredictSplits) pending_.push_back({"predict", c.images[split]});
    pending_.push_back({"eval", c.images["test_public"]});
  }
  steps_total_ = static_cast<int>(cats.size()) * 7 + (o_.submission ? 1 : 0);
  log_ << total_images << " images, " << steps_total_ << " steps (those already done are skipped)\n";
  print_estimate();
  fs::create_directories(o_.out);
  // One run per folder at a time: two would overwrite each other's records and maps.
  const std::string lock_file = (fs::path(o_.out) / ".reproduce.lock").string();
  const int lock_fd = open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct FdGuard {
    int fd;
    ~FdGuard() {
      if (fd >= 0) close(fd);
    }
  } lock_guard{lock_fd};
  if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
    throw InputError("advad reproduce: another advad reproduce is running in '" + o_.out +
                     "' (or the folder is not writable); wait for it, or use another --out");

  for (auto& c : cats) category_steps(c);
  if (o_.submission) submission_step(cats);
  if (!o_.dry_run) {
    std::vector<CategoryReport> rows;
    for (const auto& c : cats)
      rows.push_back({c.name, c.method, c.dir, c.threshold, c.images.at("test_public")});
    const std::string report = write_report(o_, rows, result_.steps);
    log_ << "report: " << report << "\n";
  }

  // The summary: what ran, what was up to date, what failed and why.
  const int ran = result_.count("ran"), up = result_.count("up to date");
  log_ << "\nsteps: " << ran << " ran, " << up << " up to date, " << result_.count("partial") << " partial, "
       << result_.count("failed") << " failed, " << result_.count("blocked") << " blocked"
       << (o_.dry_run ? ", " + std::to_string(result_.count("planned")) + " to run" : std::string()) << "\n";
  if (!o_.dry_run && ran == 0 && result_.count("partial") == 0 && result_.count("failed") == 0)
    log_ << "nothing to do: every step is up to date\n";
  for (const auto& s : result_.steps)
    if (s.status == "failed" || s.status == "partial" || s.status == "blocked" || s.skipped_inputs)
      log_ << "  " << s.status << ": " << (s.category.empty() ? "" : s.category + " ") << s.step << ": " << s.detail
           << "\n";
  return result_;
}

}  // namespace

ReproduceResult run_reproduce(const ReproduceOptions& options, std::ostream& log) {
  return Runner(options, log).run();
}

}  // namespace advad::reproduce
