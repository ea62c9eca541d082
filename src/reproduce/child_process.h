// Runs one advad step as a child process: its output goes to a log file and,
// when asked, to our stderr (indented), and the last lines are kept for the
// summary. A child that crashes ends only its step, never the whole run.
#pragma once
#include <string>
#include <vector>

namespace advad::reproduce {

struct ChildResult {
  int exit_code = -1;   // the child's exit status; -1 when it died of a signal or did not start
  int signal = 0;       // the signal that ended it, 0 if none
  std::string tail;     // its last output lines (at most ~20)
  double seconds = 0;
  bool ok() const { return exit_code == 0; }
};

// argv[0] is the program's path. Output lines are appended to `log_path`
// (created with its folder) and, when `echo`, written to stderr with `indent`.
// A program that cannot be started gives exit_code -1 and the reason in tail.
ChildResult run_child(const std::vector<std::string>& argv, const std::string& log_path, bool echo,
                      const std::string& indent = "    ");

// The command line as a shell would read it (for logs and records).
std::string shell_line(const std::vector<std::string>& argv);

}  // namespace advad::reproduce
