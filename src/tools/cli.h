// Tiny command-line parser shared by the advad subcommands: --flag value,
// --flag=value, boolean switches, positionals; generates --help text.
// Errors throw UsageError, which main() turns into exit code 2.
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace advad::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  Args(std::string command, std::string summary);
  // Declare options before parse(). `value_name` empty = boolean switch.
  Args& option(const std::string& name, const std::string& value_name, const std::string& help,
               const std::string& default_value = "");
  Args& flag(const std::string& name, const std::string& help) { return option(name, "", help); }
  // An option whose value may be left out: `--name` alone means `implicit`;
  // the next argument is taken as its value only when it is one of `choices`
  // (so `--write profile.ini` keeps profile.ini a positional).
  Args& optional_choice(const std::string& name, const std::string& value_name, const std::string& help,
                        const std::vector<std::string>& choices, const std::string& implicit);
  // --quiet: no progress output (parse() then calls set_quiet(true)).
  Args& quiet_flag();
  // --strict: stop at the first unreadable / corrupt input (exit 2) instead of skipping it (exit 3).
  Args& strict_flag();
  Args& positional(const std::string& name, const std::string& help, bool required = true);
  // Returns false when --help was given (help already printed to stdout).
  bool parse(int argc, char** argv);

  bool has(const std::string& name) const;            // given on the command line (or a switch set)
  std::string str(const std::string& name) const;     // value or default
  int integer(const std::string& name) const;         // UsageError naming the flag on bad values
  double number(const std::string& name) const;
  bool on(const std::string& name) const { return has(name); }
  const std::vector<std::string>& positionals() const { return pos_values_; }
  std::string help() const;

 private:
  struct Opt {
    std::string name, value_name, help, def;
    std::vector<std::string> choices;  // optional_choice: the values it takes from the next argument
    std::string implicit;              // optional_choice: the value of a bare --name
    bool optional_value = false;
  };
  std::string command_, summary_;
  std::vector<Opt> opts_;
  std::vector<std::pair<std::string, std::string>> pos_decl_;
  std::vector<bool> pos_required_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> pos_values_;
  const Opt* find(const std::string& name) const;
};

// Output policy shared by every command:
//  - --quiet (Args::quiet_flag) silences progress and notes; warnings, errors
//    and results still print.
//  - Progress bars redraw in place only when stderr is a terminal; otherwise
//    (logs, pipes) a plain line at most every 10 s, and one at the end.
//  - Rates and ETAs use the items after the first (the first one carries
//    warm-up: model load, caches), so no absurd first rate is shown.
//  - Once an item's time is known, one estimate line says what the whole run
//    will take (total x that time).
void set_quiet(bool quiet);
bool quiet();
// "a,b,,c" -> {"a", "b", "c"}: the comma lists of --categories, --limits and the like.
std::vector<std::string> split_commas(const std::string& text);
bool stderr_is_terminal();
// A line on stderr ("advad <cmd>: ..."), skipped when quiet; ends an open bar first.
void note(const std::string& line);
// A warning on stderr ("advad <cmd>: warning: ..."), printed even when quiet.
void warn(const std::string& command, const std::string& text);

// A progress display on stderr:
//   terminal: "label [#####.....] 42/100 3.1 it/s ETA 0:19 loss 0.1234" redrawn in place
//   otherwise: "label 42/100 (42%) 3.1 it/s ETA 0:19 loss 0.1234" as a line, at most every 10 s
class Progress {
 public:
  // estimate: print "label: X s per item; estimate for N: H:MM:SS" once the
  // first item's time is known (a bar made before the work: the first item;
  // a bar made when the first item is reported: the second one).
  Progress(std::string label, long total, bool estimate = true);
  void update(long done, const std::string& extra = "");
  void finish(const std::string& extra = "");
  // The line that would be shown (tests, logs); no I/O.
  std::string line(long done, const std::string& extra, double now) const;

 private:
  void print_estimate(double per_item, long done);
  std::string label_;
  long total_;
  bool estimate_;
  double start_;
  double first_time_ = -1;  // when the first item was done
  long first_done_ = 0;     // items done at that moment
  bool estimate_pending_ = false;
  long last_done_ = 0;
  double last_print_ = -1;
  bool finished_ = false;
};

// The one policy for unreadable or corrupt input files (predict, run, calibrate,
// eval): each is skipped with a warning naming it, a summary follows, and the
// command exits with 3; with --strict the first one stops the command (exit 2).
inline constexpr int kExitSkipped = 3;
class Skipped {
 public:
  Skipped(std::string command, bool strict) : command_(std::move(command)), strict_(strict) {}
  // Records `file` as skipped because of `why` (warning on stderr). Strict: throws
  // InputError naming the file instead. Thread-safe.
  void add(const std::string& file, const std::string& why);
  size_t count() const;
  // Prints the summary ("skipped N of M ...: a, b") when anything was skipped;
  // returns code, or kExitSkipped when anything was skipped and code is 0.
  int finish(size_t total, int code = 0) const;

 private:
  std::string command_;
  bool strict_;
  mutable std::mutex mu_;
  std::vector<std::string> files_;
};

}  // namespace advad::cli
