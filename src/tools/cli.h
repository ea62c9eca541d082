// Tiny command-line parser shared by the advad subcommands: --flag value,
// --flag=value, boolean switches, positionals; generates --help text.
// Errors throw UsageError, which main() turns into exit code 2.
#pragma once
#include <functional>
#include <map>
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
  };
  std::string command_, summary_;
  std::vector<Opt> opts_;
  std::vector<std::pair<std::string, std::string>> pos_decl_;
  std::vector<bool> pos_required_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> pos_values_;
  const Opt* find(const std::string& name) const;
};

// A text progress bar on stderr: "label [#####.....] 42/100 3.1 it/s ETA 0:19 loss 0.1234".
class Progress {
 public:
  Progress(std::string label, long total);
  void update(long done, const std::string& extra = "");
  void finish(const std::string& extra = "");

 private:
  std::string label_;
  long total_;
  double start_;
  double last_print_ = -1;
};

}  // namespace advad::cli
