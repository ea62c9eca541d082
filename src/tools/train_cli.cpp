#include "tools/train_cli.h"

#include <algorithm>
#include <filesystem>

namespace advad::tools {

namespace fs = std::filesystem;

namespace {

std::string flag_of(const std::string& key) {
  std::string f = key;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

}  // namespace

TrainCli::TrainCli(const std::string& summary, const std::string& profile_help, const std::vector<TrainKeyFlag>& flags,
                   std::vector<std::string> keys, const std::string& checkpoint_what, const std::string& device_help)
    : args_("train", summary), flags_(flags), keys_(std::move(keys)) {
  args_.positional("profile.ini", profile_help);
  for (const auto& f : flags_) args_.option(flag_of(f.key), f.value, f.help);
  args_.option("set", "KEY=VALUE",
               "override any [train] key (repeatable), e.g. --set " + keys_.front() + "=DIR; unknown keys are refused")
      .option("out", "DIR", "package folder to write (default: the profile's [profile] model)")
      .option("checkpoint", "FILE", "checkpoint file (default: <out>/checkpoint.pth); written every checkpoint_every\n"
                                    "      steps: " + checkpoint_what)
      .flag("resume", "continue from the checkpoint (same profile and flags); the result equals an uninterrupted run")
      .flag("keep-checkpoint", "keep the checkpoint after the package is written (default: delete it)")
      .option("stop-after", "N", "stop after step N with a checkpoint and no package (resume later with --resume)", "0")
      .option("device", "DEV", device_help, "cpu")
      .option("threads", "N", "LibTorch intra-op threads (0 = all cores)", "0")
      .quiet_flag();
}

bool TrainCli::parse(int argc, char** argv) {
  // cli::Args keeps one value per option and --set may repeat: take them out first.
  std::vector<char*> rest;
  auto add = [&](const std::string& kv) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw cli::UsageError("advad train: --set expects KEY=VALUE, got '" + kv + "'");
    const std::string key = kv.substr(0, eq);
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) {
      std::string accepted;
      for (const auto& k : keys_) accepted += (accepted.empty() ? "" : ", ") + k;
      throw cli::UsageError("advad train: --set " + key + ": unknown [train] key; accepted: " + accepted);
    }
    overrides_[key] = kv.substr(eq + 1);
  };
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--set") {
      if (i + 1 >= argc) throw cli::UsageError("advad train: --set needs a value <KEY=VALUE>");
      add(argv[++i]);
    } else if (a.rfind("--set=", 0) == 0) {
      add(a.substr(6));
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!args_.parse(static_cast<int>(rest.size()), rest.data())) return false;
  for (const auto& f : flags_)
    if (args_.has(flag_of(f.key))) overrides_[f.key] = args_.str(flag_of(f.key));
  // Command-line paths are relative to the working directory (the profile's own, to its folder).
  run_.output = args_.has("out") ? fs::absolute(args_.str("out")).lexically_normal().string() : "";
  run_.checkpoint = args_.has("checkpoint") ? fs::absolute(args_.str("checkpoint")).lexically_normal().string() : "";
  run_.resume = args_.on("resume");
  run_.keep_checkpoint = args_.on("keep-checkpoint");
  run_.device = args_.str("device");
  run_.stop_after = args_.integer("stop-after");
  if (run_.stop_after < 0) throw cli::UsageError("advad train: --stop-after must be >= 0");
  run_.threads = args_.integer("threads");
  if (run_.threads < 0) throw cli::UsageError("advad train: --threads must be >= 0");
  return true;
}

}  // namespace advad::tools
