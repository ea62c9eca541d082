#include "tools/cli.h"

#include <cmath>
#include <utility>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/error.h"

namespace advad::cli {

static double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

namespace {
bool g_quiet = false;
bool g_bar_open = false;  // a terminal bar is drawn on the current stderr line

std::string clock_text(double seconds) {
  const long t = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%ld:%02ld", t / 60, t % 60);
  return b;
}

void close_bar() {
  if (g_bar_open) std::cerr << "\n";
  g_bar_open = false;
}
}  // namespace

void set_quiet(bool q) { g_quiet = q; }
bool quiet() { return g_quiet; }
bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(',', start);
    std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(std::move(item));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

void note(const std::string& line) {
  if (g_quiet) return;
  close_bar();
  std::cerr << line << "\n" << std::flush;
}

void warn(const std::string& command, const std::string& text) {
  close_bar();
  std::cerr << "advad " << command << ": warning: " << text << "\n" << std::flush;
}

Args::Args(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

Args& Args::option(const std::string& name, const std::string& value_name, const std::string& help,
                   const std::string& default_value) {
  Opt o;
  o.name = name;
  o.value_name = value_name;
  o.help = help;
  o.def = default_value;
  opts_.push_back(o);
  return *this;
}

Args& Args::optional_choice(const std::string& name, const std::string& value_name, const std::string& help,
                            const std::vector<std::string>& choices, const std::string& implicit) {
  Opt o;
  o.name = name;
  o.value_name = value_name;
  o.help = help;
  o.choices = choices;
  o.implicit = implicit;
  o.optional_value = true;
  opts_.push_back(o);
  return *this;
}

Args& Args::quiet_flag() {
  return flag("quiet", "no progress output (bars, estimates); warnings, errors and results still print");
}

Args& Args::strict_flag() {
  return flag("strict", "stop at the first unreadable or corrupt input file (exit 2) instead of skipping it "
                        "with a warning (then the exit code is 3)");
}

Args& Args::positional(const std::string& name, const std::string& help, bool required) {
  pos_decl_.emplace_back(name, help);
  pos_required_.push_back(required);
  return *this;
}

const Args::Opt* Args::find(const std::string& name) const {
  for (const auto& o : opts_)
    if (o.name == name) return &o;
  return nullptr;
}

bool Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << help();
      return false;
    }
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      std::string name = a.substr(2), value;
      bool inline_value = false;
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      const Opt* o = find(name);
      if (!o) throw UsageError("advad " + command_ + ": unknown option --" + name + " (see advad " + command_ + " --help)");
      if (o->value_name.empty()) {
        if (inline_value) throw UsageError("advad " + command_ + ": --" + name + " takes no value");
        values_[name] = "1";
      } else {
        if (!inline_value && o->optional_value) {
          const bool next_is_value = i + 1 < argc && std::find(o->choices.begin(), o->choices.end(),
                                                               std::string(argv[i + 1])) != o->choices.end();
          value = next_is_value ? argv[++i] : o->implicit;
        } else if (!inline_value) {
          if (i + 1 >= argc) throw UsageError("advad " + command_ + ": --" + name + " needs a value <" + o->value_name + ">");
          value = argv[++i];
        }
        values_[name] = value;
      }
    } else {
      pos_values_.push_back(a);
    }
  }
  size_t required = 0;
  for (bool r : pos_required_) required += r ? 1 : 0;
  if (pos_values_.size() < required)
    throw UsageError("advad " + command_ + ": missing <" + pos_decl_[pos_values_.size()].first + "> (see advad " +
                     command_ + " --help)");
  if (pos_values_.size() > pos_decl_.size())
    throw UsageError("advad " + command_ + ": unexpected argument '" + pos_values_[pos_decl_.size()] + "'");
  if (find("quiet") && has("quiet")) set_quiet(true);
  return true;
}

bool Args::has(const std::string& name) const { return values_.count(name) != 0; }

std::string Args::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  const Opt* o = find(name);
  return o ? o->def : std::string();
}

int Args::integer(const std::string& name) const {
  std::string v = str(name);
  try {
    size_t used = 0;
    int x = std::stoi(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw UsageError("advad " + command_ + ": --" + name + " expects an integer, got '" + v + "'");
  }
}

double Args::number(const std::string& name) const {
  std::string v = str(name);
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used != v.size() || !std::isfinite(x)) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    // NaN and infinity are no flag's meaningful value: a NaN threshold or k
    // would silently turn every comparison false.
    throw UsageError("advad " + command_ + ": --" + name + " expects a finite number, got '" + v + "'");
  }
}

std::string Args::help() const {
  std::ostringstream s;
  s << "usage: advad " << command_;
  if (!opts_.empty()) s << " [options]";
  for (size_t i = 0; i < pos_decl_.size(); ++i)
    s << (pos_required_[i] ? " <" : " [") << pos_decl_[i].first << (pos_required_[i] ? ">" : "]");
  s << "\n\n" << summary_ << "\n";
  if (!pos_decl_.empty()) {
    s << "\narguments:\n";
    for (const auto& p : pos_decl_) s << "  " << p.first << "\n      " << p.second << "\n";
  }
  s << "\noptions:\n";
  for (const auto& o : opts_) {
    s << "  --" << o.name;
    if (o.optional_value) s << " [" << o.value_name << "]";
    else if (!o.value_name.empty()) s << " <" << o.value_name << ">";
    s << "\n      " << o.help;
    if (!o.def.empty()) s << " (default: " << o.def << ")";
    s << "\n";
  }
  s << "  -h, --help\n      show this help and exit\n";
  return s.str();
}

Progress::Progress(std::string label, long total, bool estimate)
    : label_(std::move(label)), total_(total), estimate_(estimate), start_(now_s()) {}

std::string Progress::line(long done, const std::string& extra, double t) const {
  // Rate from the items after the first: (done - first) / (time since the first).
  double rate = 0;
  if (first_time_ >= 0 && done > first_done_ && t > first_time_) rate = (done - first_done_) / (t - first_time_);
  std::string s = label_;
  char buf[160];
  if (total_ <= 0) {  // unknown total (a video before its duration is known)
    std::snprintf(buf, sizeof buf, " %ld", done);
  } else if (stderr_is_terminal()) {
    const int width = 24;
    const int fill = total_ > 0 ? static_cast<int>(width * std::min(done, total_) / total_) : width;
    std::string bar(static_cast<size_t>(fill), '#');
    bar.resize(width, '.');
    std::snprintf(buf, sizeof buf, " [%s] %ld/%ld", bar.c_str(), done, total_);
  } else {
    std::snprintf(buf, sizeof buf, " %ld/%ld (%d%%)", done, total_,
                  total_ > 0 ? static_cast<int>(100 * done / total_) : 100);
  }
  s += buf;
  if (rate > 0) {
    std::snprintf(buf, sizeof buf, " %.3g it/s", rate);
    s += buf;
    if (done < total_) s += " ETA " + clock_text((total_ - done) / rate);
  }
  if (total_ > 0 && done >= total_) s += " in " + clock_text(t - start_);
  if (!extra.empty()) s += " " + extra;
  return s;
}

void Progress::print_estimate(double per_item, long done) {
  if (!estimate_ || g_quiet || total_ < 3 || done >= total_) return;
  char b[64];
  std::snprintf(b, sizeof b, "%.3g s", per_item);
  note(label_ + ": " + b + " per item; estimate for " + std::to_string(total_) + ": " +
       clock_text(per_item * static_cast<double>(total_)));
}

void Progress::update(long done, const std::string& extra) {
  const double t = now_s();
  last_done_ = done;
  if (first_time_ < 0 && done > 0) {
    first_time_ = t;
    first_done_ = done;
    // A bar made before the work measures the first item from its start; one
    // made when the first item is reported (lazily) waits for the second.
    if (t - start_ > 0.05) print_estimate((t - start_) / static_cast<double>(done), done);
    else estimate_pending_ = true;
  } else if (estimate_pending_ && done > first_done_) {
    estimate_pending_ = false;
    print_estimate((t - first_time_) / static_cast<double>(done - first_done_), done);
  }
  if (g_quiet) return;
  const bool tty = stderr_is_terminal();
  const bool last = total_ > 0 && done >= total_;
  // Terminal: at most 5 redraws/s. Logs: the first line, then at most one every 10 s, and the last.
  const double gap = tty ? 0.2 : 10.0;
  if (!last && last_print_ >= 0 && t - last_print_ < gap) return;
  if (!tty && last && finished_) return;
  last_print_ = t;
  const std::string text = line(done, extra, t);
  if (tty) {
    std::cerr << "\r" << text << "\033[K" << std::flush;
    g_bar_open = true;
  } else {
    std::cerr << text << "\n" << std::flush;
    if (last) finished_ = true;
  }
}

void Progress::finish(const std::string& extra) {
  if (g_quiet) return;
  if (!stderr_is_terminal() && finished_) return;
  last_print_ = -1;
  update(total_ > 0 ? total_ : last_done_, extra);  // unknown total: the count reached
  close_bar();
}

void Skipped::add(const std::string& file, const std::string& why) {
  if (strict_) throw InputError(file + ": " + why + " (--strict stops at the first unreadable file)");
  std::lock_guard<std::mutex> lock(mu_);
  files_.push_back(file);
  warn(command_, "skipping " + file + ": " + why);
}

size_t Skipped::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.size();
}

int Skipped::finish(size_t total, int code) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.empty()) return code;
  close_bar();
  std::cerr << "advad " << command_ << ": skipped " << files_.size() << " of " << total
            << " input files (unreadable or corrupt):\n";
  for (const auto& f : files_) std::cerr << "  " << f << "\n";
  std::cerr << "advad " << command_ << ": exit code " << kExitSkipped
            << " because files were skipped (--strict stops at the first instead)\n"
            << std::flush;
  return code == 0 ? kExitSkipped : code;
}

}  // namespace advad::cli
