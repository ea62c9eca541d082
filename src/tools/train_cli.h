// The command line every `advad train` method shares: the per-key flags of its
// [train] group, --set KEY=VALUE for any key (repeatable), and the run options
// (--out, --checkpoint, --resume, --keep-checkpoint, --stop-after, --device,
// --threads, --quiet). A method's trainer file declares its key flags and keys,
// then maps TrainCli's overrides and run options onto its own training run.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tools/cli.h"
#include "train/trainer.h"

namespace advad::tools {

// A flag that overrides one [train] key (flag = key with '-' for '_').
struct TrainKeyFlag {
  const char* key;
  const char* value;
  const char* help;
};

struct TrainRunFlags {
  std::string output;      // --out, absolute; "" = the profile's model path
  std::string checkpoint;  // --checkpoint, absolute; "" = <out>/checkpoint.pth
  bool resume = false;
  bool keep_checkpoint = false;
  int stop_after = 0;
  std::string device;
  int threads = 0;

  // Copies them into the training skeleton's run options.
  void apply_to(train::RunOptions& o) const;
};

class TrainCli {
 public:
  // summary: the method's recipe text; keys: every key its [train] group
  // accepts (what --set takes); checkpoint_what: what its checkpoint holds.
  TrainCli(const std::string& summary, const std::string& profile_help, const std::vector<TrainKeyFlag>& flags,
           std::vector<std::string> keys, const std::string& checkpoint_what, const std::string& device_help);

  // False when --help was printed. UsageError (exit 2) on bad flags or --set.
  bool parse(int argc, char** argv);

  const std::string& profile() const { return args_.positionals()[0]; }
  // [train] overrides: --set values, then the key flags (a key flag wins).
  const std::map<std::string, std::string>& overrides() const { return overrides_; }
  const TrainRunFlags& run() const { return run_; }

 private:
  cli::Args args_;
  std::vector<TrainKeyFlag> flags_;
  std::vector<std::string> keys_;
  std::map<std::string, std::string> overrides_;
  TrainRunFlags run_;
};

// The progress of a run on stderr: one bar per preparation stage, then
// "train" with "loss X (avg Y)" (a running mean) and the method's `extra` text.
class TrainProgress {
 public:
  using Extra = std::function<std::string(const train::StepReport&)>;
  explicit TrainProgress(Extra extra = {}) : extra_(std::move(extra)) {}
  void attach(train::RunOptions& o);  // sets on_stage and on_step
  void finish();                      // after the run: closes the open bar

 private:
  void on_stage(const std::string& name, int64_t done, int64_t total);
  void on_step(const train::StepReport& s);
  Extra extra_;
  std::unique_ptr<cli::Progress> stage_bar_, bar_;
  std::string stage_name_;
  double avg_ = 0, last_loss_ = 0;
};

// The common end of the report on stdout: "loss first X, last Y", then "stopped at
// step N; checkpoint ..." or "package: ..." (+ "checkpoint kept: ..."). Returns 0.
int print_train_end(const train::RunResult& r);

// A number with `prec` significant digits.
std::string fmt_number(double v, int prec = 4);

}  // namespace advad::tools
