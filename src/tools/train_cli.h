// The command line every `advad train` method shares: the per-key flags of its
// [train] group, --set KEY=VALUE for any key (repeatable), and the run options
// (--out, --checkpoint, --resume, --keep-checkpoint, --stop-after, --device,
// --threads, --quiet). A method's trainer file declares its key flags and keys,
// then maps TrainCli's overrides and run options onto its own training run.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tools/cli.h"

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

  // Copies them into a method's run options (the trainers' options share these names).
  template <typename RunOptions>
  void apply_to(RunOptions& o) const {
    o.output = output;
    o.checkpoint = checkpoint;
    o.resume = resume;
    o.keep_checkpoint = keep_checkpoint;
    o.device = device;
    o.stop_after = stop_after;
  }
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

}  // namespace advad::tools
