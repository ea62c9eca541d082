// advad reproduce: the seed's whole protocol over an MVTec AD 2 folder, one
// category after another, each step an advad command run as a child process:
//   train (or use a given package) -> calibrate on validation -> predict
//   test_public -> eval -> predict test_private, test_private_mixed -> figures
// then the submission (write, check, pack) and report.md.
// Every step leaves a record (step_record.h); a second run redoes only the
// steps whose inputs changed or that failed. A failing step stops its own
// category only.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "reproduce/run_profile.h"

namespace advad::reproduce {

struct ReproduceOptions {
  std::string dataset;   // MVTec AD 2 root holding <category>/
  std::string out;       // run folder
  std::string profiles;  // folder of <category>.ini (the seed's: models/mvtec_ad2)
  std::string packages;  // optional: <packages>/<category> is used instead of training
  std::string advad;     // the advad binary that runs the steps
  std::vector<std::string> categories;  // empty: every category with a profile and a dataset folder
  std::vector<ProfileOverride> overrides;
  std::string device = "auto";
  std::string rule = "mean-std";  // advad calibrate rule whose threshold is used
  int examples = 3;               // overlay examples per category in the report
  bool submission = true;
  bool dry_run = false;  // show the plan and its cost, run nothing
  bool echo = true;      // steps' own output on stderr (always in the logs)
};

struct StepOutcome {
  std::string category;  // "" for the run-wide steps (submission)
  std::string step;
  // ran | up to date | partial (ran, inputs skipped) | failed | blocked | planned (dry run)
  std::string status;
  std::string detail;  // the error, what blocked it, or what was skipped
  double seconds = 0;
  long items = 0;
  bool skipped_inputs = false;  // it ran (now or before) but skipped unreadable inputs (named in detail)
};

struct ReproduceResult {
  std::vector<StepOutcome> steps;
  int count(const std::string& status) const;
  // 0: everything done; 3: done but some inputs were skipped (now or in the run that made
  // them); 1: a step failed or was blocked.
  int exit_code() const;
};

// Runs (or, with dry_run, plans) the whole reproduction; progress and the
// summary go to `log`. InputError for a missing dataset / profiles folder, an
// unknown category, or a run profile that does not load (naming the override).
ReproduceResult run_reproduce(const ReproduceOptions& options, std::ostream& log);

}  // namespace advad::reproduce
