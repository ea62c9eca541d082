// ProfileGroup: typed, range-checked reading of one profile group with
// uniform error texts (see core/profile_reader.h).
#include "core/profile_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "core/profile.h"

namespace fs = std::filesystem;

namespace advad {

namespace {

std::string flag_of(const std::string& key) {
  std::string f = key;
  for (auto& c : f)
    if (c == '_') c = '-';
  return f;
}

std::vector<std::string> read_lines(const std::string& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// The group named by a "[name]" line (the text up to ']').
std::string header_name(const std::string& l) {
  const auto close = l.find(']');
  return l.substr(1, close == std::string::npos ? std::string::npos : close - 1);
}

}  // namespace

std::string ProfileGroup::trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string ProfileGroup::lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ProfileGroup::join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string ProfileGroup::shortest(double v) {
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

ProfileGroup::ProfileGroup(std::string file, std::string group, Values values, Values overrides)
    : file_(std::move(file)), group_(std::move(group)), values_(std::move(values)), overrides_(std::move(overrides)) {
  for (auto& kv : values_) kv.second = trim(kv.second);
  for (auto& kv : overrides_) kv.second = trim(kv.second);
}

ProfileGroup ProfileGroup::of(const Profile& profile, const std::string& group, Values overrides) {
  auto it = profile.method_groups.find(group);
  return ProfileGroup(profile.path, group, it == profile.method_groups.end() ? Values{} : it->second,
                      std::move(overrides));
}

std::vector<std::string> ProfileGroup::keys() const {
  std::set<std::string> k;
  for (const auto& kv : values_) k.insert(kv.first);
  for (const auto& kv : overrides_) k.insert(kv.first);
  return {k.begin(), k.end()};
}

const std::string* ProfileGroup::find(const std::string& key) const {
  if (auto it = overrides_.find(key); it != overrides_.end()) return &it->second;
  if (auto it = values_.find(key); it != values_.end()) return &it->second;
  return nullptr;
}

std::string ProfileGroup::where(const std::string& key) const {
  const std::string gk = "[" + group_ + "]" + (key.empty() ? "" : " " + key);
  if (!key.empty() && from_command_line(key)) return "command line --" + flag_of(key) + " (" + gk + ")";
  if (file_.empty()) return "<profile>: " + gk;
  const int line = profile_line(file_, group_, key);
  return file_ + (line ? ":" + std::to_string(line) : "") + ": " + gk;
}

void ProfileGroup::fail(const std::string& key, const std::string& what) const {
  throw ProfileError(where(key) + ": " + what);
}

std::string ProfileGroup::integer_range(long lo, long hi) {
  if (hi == std::numeric_limits<long>::max() || hi == std::numeric_limits<int>::max())
    return "integer >= " + std::to_string(lo);
  return "integer " + std::to_string(lo) + ".." + std::to_string(hi);
}

std::string ProfileGroup::number_range(double lo, double hi, Bound bound) {
  const std::string lo_op = bound == Bound::LowOpen ? " < " : " <= ";
  const std::string hi_op = bound == Bound::HighOpen ? " < " : " <= ";
  if (std::isinf(hi)) return "value" + std::string(bound == Bound::LowOpen ? " > " : " >= ") + shortest(lo);
  return shortest(lo) + lo_op + "value" + hi_op + shortest(hi);
}

long ProfileGroup::parse_integer(const std::string& v, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long d = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0')
    throw ProfileError("'" + v + "' is not an integer; accepted: " + integer_range(lo, hi));
  if (errno == ERANGE || d < lo || d > hi)
    throw ProfileError("value " + v + " out of range; accepted: " + integer_range(lo, hi));
  return d;
}

double ProfileGroup::parse_number(const std::string& v, double lo, double hi, Bound bound) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(d))
    throw ProfileError("'" + v + "' is not a number; accepted: " + number_range(lo, hi, bound));
  if (d < lo || d > hi || (bound == Bound::LowOpen && d <= lo) || (bound == Bound::HighOpen && d >= hi))
    throw ProfileError("value " + v + " out of range; accepted: " + number_range(lo, hi, bound));
  return d;
}

bool ProfileGroup::parse_boolean(const std::string& v) {
  const std::string l = lower(v);
  if (l == "true" || l == "yes" || l == "1" || l == "on") return true;
  if (l == "false" || l == "no" || l == "0" || l == "off") return false;
  throw ProfileError("bad value '" + v + "'; accepted: true | false (or yes | no, on | off, 1 | 0)");
}

int ProfileGroup::integer(const std::string& key, int def, int lo, int hi) const {
  return static_cast<int>(integer_long(key, def, lo, hi));
}

long ProfileGroup::integer_long(const std::string& key, long def, long lo, long hi) const {
  with(key, [&](const std::string& v) { def = parse_integer(v, lo, hi); });
  return def;
}

double ProfileGroup::number(const std::string& key, double def, double lo, double hi, Bound bound) const {
  with(key, [&](const std::string& v) { def = parse_number(v, lo, hi, bound); });
  return def;
}

bool ProfileGroup::boolean(const std::string& key, bool def) const {
  with(key, [&](const std::string& v) { def = parse_boolean(v); });
  return def;
}

std::string ProfileGroup::string(const std::string& key, const std::string& def) const {
  const std::string* v = find(key);
  return v ? *v : def;
}

std::string ProfileGroup::require(const std::string& key, const std::string& hint) const {
  const std::string* v = find(key);
  if (!v || v->empty()) fail(key, "missing; " + hint);
  return *v;
}

std::string ProfileGroup::path(const std::string& key) const {
  const std::string* v = find(key);
  if (!v || v->empty()) return "";
  const fs::path p(*v);
  if (p.is_absolute()) return p.lexically_normal().string();
  const fs::path base = from_command_line(key) || file_.empty() ? fs::current_path()
                                                                 : fs::absolute(file_).parent_path();
  return (base / p).lexically_normal().string();
}

void ProfileGroup::only_keys(const std::vector<std::string>& allowed) const {
  for (const auto& k : keys()) {
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == k;
    if (!ok) fail(k, "unknown key; accepted keys in [" + group_ + "]: " + join(allowed, ", "));
  }
}

namespace {

// Calls fn(line index, group, key) for every `key = value` line of an ini
// file (comments and blank lines skipped; a group header with key ""); stops
// when fn returns true.
template <typename Fn>
void for_each_ini_key(const std::string& file, Fn fn) {
  const std::vector<std::string> lines = read_lines(file);
  std::string cur;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string l = ProfileGroup::trim(lines[i]);
    if (l.empty() || l[0] == '#') continue;
    if (l[0] == '[') {
      cur = header_name(l);
      if (fn(i, cur, std::string())) return;
      continue;
    }
    const auto eq = l.find('=');
    if (eq == std::string::npos) continue;  // GKeyFile has rejected the file already
    if (fn(i, cur, ProfileGroup::trim(l.substr(0, eq)))) return;
  }
}

}  // namespace

int profile_line(const std::string& file, const std::string& group, const std::string& key) {
  int line = 0;
  for_each_ini_key(file, [&](size_t i, const std::string& g, const std::string& k) {
    if (g == group && k == key) line = static_cast<int>(i + 1);  // key "" = the group's header
    return line != 0;
  });
  return line;
}

void check_duplicate_keys(const std::string& file) {
  std::map<std::string, std::map<std::string, size_t>> seen;  // group -> key -> line (0-based)
  for_each_ini_key(file, [&](size_t i, const std::string& group, const std::string& key) {
    if (key.empty()) return false;
    auto [it, fresh] = seen[group].emplace(key, i);
    if (!fresh)
      throw ProfileError(file + ":" + std::to_string(i + 1) + ": [" + group + "] " + key +
                         ": key given twice (first on line " + std::to_string(it->second + 1) + "); keep one of them");
    return false;
  });
}

}  // namespace advad
