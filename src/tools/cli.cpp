#include "tools/cli.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace advad::cli {

static double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

Args::Args(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

Args& Args::option(const std::string& name, const std::string& value_name, const std::string& help,
                   const std::string& default_value) {
  opts_.push_back({name, value_name, help, default_value});
  return *this;
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
        if (!inline_value) {
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
    if (used != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw UsageError("advad " + command_ + ": --" + name + " expects a number, got '" + v + "'");
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
    if (!o.value_name.empty()) s << " <" << o.value_name << ">";
    s << "\n      " << o.help;
    if (!o.def.empty()) s << " (default: " << o.def << ")";
    s << "\n";
  }
  s << "  -h, --help\n      show this help and exit\n";
  return s.str();
}

Progress::Progress(std::string label, long total) : label_(std::move(label)), total_(total), start_(now_s()) {}

void Progress::update(long done, const std::string& extra) {
  double t = now_s();
  if (done < total_ && last_print_ >= 0 && t - last_print_ < 0.2) return;  // at most 5 redraws/s
  last_print_ = t;
  double el = t - start_;
  double rate = el > 0 ? done / el : 0;
  long eta = rate > 0 ? static_cast<long>((total_ - done) / rate) : 0;
  const int width = 24;
  int fill = total_ > 0 ? static_cast<int>(width * done / total_) : width;
  std::string bar(fill, '#');
  bar.resize(width, '.');
  char buf[256];
  std::snprintf(buf, sizeof buf, "\r%s [%s] %ld/%ld %.2f it/s ETA %ld:%02ld", label_.c_str(), bar.c_str(), done,
                total_, rate, eta / 60, eta % 60);
  std::cerr << buf << (extra.empty() ? "" : " ") << extra << "\033[K" << std::flush;
}

void Progress::finish(const std::string& extra) {
  last_print_ = -1;
  update(total_, extra);
  std::cerr << "\n";
}

}  // namespace advad::cli
