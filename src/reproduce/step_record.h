// The record a reproduce step leaves in <out>/<category>/steps/<step>.json:
// what it was made from (fingerprint), how it ended and what it cost. The
// next run reads it to decide whether the step is up to date.
#pragma once
#include <optional>
#include <string>

namespace advad::reproduce {

struct StepRecord {
  std::string step;         // e.g. "predict test_public"
  std::string fingerprint;  // of its inputs when it started (fingerprint.h)
  std::string outputs;      // fingerprint of its outputs when it ended: a model or map changed since is redone
  // started: running or interrupted; done; partial: done but inputs were
  // skipped (exit 3, named in `error`); failed.
  std::string status = "started";
  int exit_code = 0;
  double seconds = 0;       // wall time of the step
  long items = 0;           // images it worked on (for the time estimate)
  std::string command;      // the command line, for the log and the report
  std::string error;        // last lines of its output when it failed or skipped inputs
  std::string finished;     // ISO time
  bool up_to_date(const std::string& current_fingerprint, const std::string& current_outputs) const {
    return fingerprint == current_fingerprint && outputs == current_outputs && (status == "done" || status == "partial");
  }
};

// Empty when the file does not exist or does not parse (an unreadable record
// only means the step runs again).
std::optional<StepRecord> load_step_record(const std::string& path);
// Written through a temporary file and a rename, so an interrupted write never
// leaves a record that claims a step is done.
void save_step_record(const std::string& path, const StepRecord& record);

// "2026-12-06T05:01:02Z"
std::string iso_now();

}  // namespace advad::reproduce
