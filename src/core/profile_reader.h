// ProfileGroup: the one typed reader of a profile group. The core loader
// (core/profile.cpp) and every method's settings ([cpr], [inpformer], [train])
// read their keys through it, so values are parsed, ranges checked, paths
// resolved and errors worded the same way everywhere:
//
//   <file>:<line>: [group] key: <what is wrong>; accepted: <what is accepted>
//   command line --flag ([group] key): ...        (a value given on the command line)
//
// Paths: a relative path in the profile is relative to the profile file's
// folder; a relative path given on the command line (an override) is relative
// to the working directory (README, "Profile format").
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace advad {

struct Profile;

// Which ends of a number range are excluded.
enum class Bound { Closed, LowOpen, HighOpen };

class ProfileGroup {
 public:
  using Values = std::map<std::string, std::string>;

  // file: the profile's path ("" for a profile built in code, reported as <profile>);
  // values: the group's keys as written (values are trimmed); overrides: values given
  // on the command line, taking precedence over the file's.
  ProfileGroup(std::string file, std::string group, Values values, Values overrides = {});
  // One of the profile's method groups ([cpr], [inpformer], [train]); an absent group is empty.
  static ProfileGroup of(const Profile& profile, const std::string& group, Values overrides = {});

  const std::string& file() const { return file_; }
  const std::string& group() const { return group_; }
  // Every key given (file and command line), sorted.
  std::vector<std::string> keys() const;
  bool has(const std::string& key) const { return find(key) != nullptr; }
  bool from_command_line(const std::string& key) const { return overrides_.count(key) > 0; }
  // The trimmed value (the command line's first), or nullptr.
  const std::string* find(const std::string& key) const;

  // "<file>:<line>: [group] key" (no line when the file does not hold the key;
  // "[group]" alone when key is empty), or "command line --flag ([group] key)".
  std::string where(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

  // Apply parse(value) when the key is given; a ProfileError it throws is
  // rethrown with where(key) in front.
  template <typename F>
  void with(const std::string& key, F&& parse) const {
    const std::string* v = find(key);
    if (!v) return;
    try {
      parse(*v);
    } catch (const ProfileError& e) {
      fail(key, e.what());
    }
  }

  // Typed values: `def` when the key is absent, else the parsed value in range.
  int integer(const std::string& key, int def, int lo, int hi) const;
  long integer_long(const std::string& key, long def, long lo, long hi) const;
  double number(const std::string& key, double def, double lo, double hi, Bound bound = Bound::Closed) const;
  bool boolean(const std::string& key, bool def) const;
  std::string string(const std::string& key, const std::string& def = "") const;
  template <typename E>
  E choice(const std::string& key, E def, const std::vector<std::pair<std::string, E>>& table) const {
    with(key, [&](const std::string& v) { def = parse_choice(v, table); });
    return def;
  }
  // The value, which must be given and not empty; else "missing; <hint>".
  std::string require(const std::string& key, const std::string& hint) const;
  // A path: "" when absent or empty; absolute paths as given; relative ones
  // against the profile's folder, or the working directory for a command-line
  // value (and for a profile built in code). Normalised, absolute.
  std::string path(const std::string& key) const;
  // Fails on the first key (in sorted order) not in `allowed`.
  void only_keys(const std::vector<std::string>& allowed) const;

  // Value parsers without context (ProfileError "<what>; accepted: ..."), for compound values.
  static long parse_integer(const std::string& v, long lo, long hi);
  static double parse_number(const std::string& v, double lo, double hi, Bound bound = Bound::Closed);
  static bool parse_boolean(const std::string& v);
  template <typename E>
  static E parse_choice(const std::string& v, const std::vector<std::pair<std::string, E>>& table) {
    std::vector<std::string> names;
    for (const auto& [name, value] : table) {
      if (lower(v) == name) return value;
      names.push_back(name);
    }
    throw ProfileError("bad value '" + v + "'; accepted: " + join(names, " | "));
  }
  // "integer lo..hi" / "integer >= lo"; "lo <= value < hi" / "value > lo".
  static std::string integer_range(long lo, long hi);
  static std::string number_range(double lo, double hi, Bound bound);

  // Shortest decimal text that reads back to exactly `v`.
  static std::string shortest(double v);
  static std::string trim(const std::string& s);
  static std::string lower(std::string s);
  static std::string join(const std::vector<std::string>& v, const char* sep);

 private:
  std::string file_, group_;
  Values values_, overrides_;
};

// Line (1-based) of `key` in `group` of the profile file text, or of the group
// header when key is empty; 0 when not found or the file is unreadable.
int profile_line(const std::string& file, const std::string& group, const std::string& key);

// ProfileError "<file>:<line>: [group] key: key given twice (first on line N)"
// for the first key given twice in a group (GKeyFile would keep only one).
void check_duplicate_keys(const std::string& file);

}  // namespace advad
