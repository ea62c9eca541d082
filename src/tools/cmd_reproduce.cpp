// advad reproduce: the seed's table from an MVTec AD 2 folder in one command
// (src/reproduce does the work; this maps flags onto ReproduceOptions).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "reproduce/reproduce.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace advad::tools {
namespace fs = std::filesystem;
namespace {

// The seed's profiles: the source tree's models/mvtec_ad2 while it exists (a
// build run from its tree), else the installed copy.
std::string default_profiles() {
#ifdef ADVAD_SOURCE_PROFILES
  if (fs::is_directory(ADVAD_SOURCE_PROFILES)) return ADVAD_SOURCE_PROFILES;
#endif
#ifdef ADVAD_INSTALLED_PROFILES
  return ADVAD_INSTALLED_PROFILES;
#else
  return "models/mvtec_ad2";
#endif
}

std::string self_exe() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw InputError("advad reproduce: cannot find its own binary (/proc/self/exe): " + ec.message());
  return p.string();
}

// --set may repeat; cli::Args keeps one value per option.
std::vector<std::string> take_repeated(const std::string& flag, int argc, char** argv, std::vector<char*>& rest) {
  std::vector<std::string> values;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == flag) {
      if (i + 1 >= argc) throw cli::UsageError("advad reproduce: " + flag + " needs a value");
      values.push_back(argv[++i]);
    } else if (a.rfind(flag + "=", 0) == 0) {
      values.push_back(a.substr(flag.size() + 1));
    } else {
      rest.push_back(argv[i]);
    }
  }
  return values;
}

}  // namespace

int cmd_reproduce(int argc, char** argv) {
  std::vector<char*> rest;
  const std::vector<std::string> sets = take_repeated("--set", argc, argv, rest);
  cli::Args a("reproduce",
              "The seed's protocol over an MVTec AD 2 folder, category by category, each step an advad command:\n"
              "  train (or --packages) -> calibrate on validation (the --rule's threshold; no test image chooses\n"
              "  it) -> predict test_public -> eval (AU-PRO@0.05/0.3, SegF1, ClassF1, pixel/image AUROC) ->\n"
              "  figures -> predict test_private and test_private_mixed; then the submission (write, check,\n"
              "  pack) and <out>/report.md with the seed's published figures beside.\n"
              "Resumable: each step records what it was made from (<out>/<category>/steps/); a second run redoes\n"
              "only what changed or failed. A failing category does not stop the others; the summary lists\n"
              "failures with their error and log. Before starting it shows the images and steps, and an\n"
              "estimate of the time once a step of each kind has been measured (here or in an earlier run).\n"
              "The seed's per-split thresholds are not used: they were tuned by hand for its own models.\n"
              "Exit code: 0 all done, 3 done but input files were skipped, 1 a step failed, 2 bad usage.");
  a.positional("mvtec_ad2_root", "the MVTec AD 2 dataset root, holding <category>/train/good etc.")
      .option("out", "DIR", "run folder: profiles, packages, predictions, records, logs, report.md (required)")
      .option("categories", "LIST", "comma-separated categories (default: every profile with a dataset folder)")
      .option("profiles", "DIR", "folder of the category profiles <category>.ini (and seed_results.csv)",
              default_profiles())
      .option("packages", "DIR",
              "use <DIR>/<category> (a trained or imported advad package), or <DIR>/<category>/package (the --out of "
              "an earlier reproduce: variants sharing one training), instead of training, where it exists; its files "
              "are linked, never modified; its profile.ini replaces the seed's, the overrides apply on top")
      .option("device", "DEV", "auto | cpu | cuda | cuda:N, for every step (auto: the first CUDA device if there is one, else the CPU)", "auto")
      .option("rule", "RULE", "advad calibrate rule whose threshold is used: mean-std | false-alarms | percentile | max-f1",
              "mean-std")
      .option("set", "[METHOD:]GROUP.KEY=VALUE",
              "override a profile key in every category (repeatable; METHOD = inpformer | cpr limits it to that "
              "method's categories; an empty VALUE removes the key), e.g. --set train.iterations=50 "
              "--set cpr:train.steps=20")
      .option("overrides", "FILE",
              "an .ini of overrides: groups [GROUP] or [METHOD:GROUP], applied before --set (quick runs: see "
              "tests/data/reproduce/tiny.ini)")
      .option("examples", "N", "overlay examples per category in the report", "3")
      .flag("no-submission", "skip the submission (e.g. when only some categories run)")
      .flag("dry-run", "show the plan and its cost (images, steps still to run), run nothing")
      .quiet_flag();
  if (!a.parse(static_cast<int>(rest.size()), rest.data())) return 0;
  reproduce::ReproduceOptions o;
  o.dataset = a.positionals().at(0);
  if (!a.has("out")) throw cli::UsageError("advad reproduce: --out DIR is required (the run folder)");
  o.out = a.str("out");
  o.profiles = a.str("profiles");
  o.packages = a.str("packages");
  o.device = a.str("device");
  if (o.device != "auto" && o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    throw cli::UsageError("advad reproduce: --device '" + o.device + "': expected auto, cpu, cuda or cuda:N");
  o.rule = a.str("rule");
  if (o.rule != "mean-std" && o.rule != "false-alarms" && o.rule != "percentile" && o.rule != "max-f1")
    throw cli::UsageError("advad reproduce: --rule '" + o.rule + "': expected mean-std, false-alarms, percentile or max-f1");
  o.examples = a.integer("examples");
  if (o.examples < 0 || o.examples > 100)
    throw cli::UsageError("advad reproduce: --examples " + a.str("examples") + ": expected 0..100");
  o.categories = cli::split_commas(a.str("categories"));
  o.submission = !a.on("no-submission");
  o.dry_run = a.on("dry-run");
  o.echo = !a.on("quiet");
  o.advad = self_exe();
  try {
    if (a.has("overrides")) o.overrides = reproduce::read_override_file(a.str("overrides"));
    for (const auto& s : sets) o.overrides.push_back(reproduce::parse_override(s));
  } catch (const InputError& e) {
    throw cli::UsageError(std::string("advad reproduce: ") + e.what());
  }
  const reproduce::ReproduceResult r = reproduce::run_reproduce(o, std::cerr);
  return r.exit_code();
}

}  // namespace advad::tools
