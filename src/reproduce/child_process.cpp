#include "reproduce/child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace advad::reproduce {
namespace fs = std::filesystem;

std::string shell_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,+@%") ==
                                         std::string::npos;
    std::string q = a;
    if (!plain) {
      q = "'";
      for (char c : a) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
      q += "'";
    }
    out += (out.empty() ? "" : " ") + q;
  }
  return out;
}

ChildResult run_child(const std::vector<std::string>& argv, const std::string& log_path, bool echo,
                      const std::string& indent) {
  ChildResult r;
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(fs::path(log_path).parent_path(), ec);
  std::ofstream log(log_path, std::ios::app);
  log << "$ " << shell_line(argv) << "\n";

  int fds[2];
  if (argv.empty() || pipe(fds) != 0) {
    r.tail = "cannot start the step: " + std::string(std::strerror(errno));
    return r;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    r.tail = "cannot start the step: fork: " + std::string(std::strerror(errno));
    return r;
  }
  if (pid == 0) {
    // Child: stdout and stderr into the pipe, no stdin (a step never asks).
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(args[0], args.data());
    const std::string msg = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
  }
  close(fds[1]);
  std::deque<std::string> last;
  std::string line;
  char buf[4096];
  auto flush_line = [&](const std::string& l) {
    log << l << "\n";
    if (echo) std::cerr << indent << l << "\n";
    last.push_back(l);
    if (last.size() > 20) last.pop_front();
  };
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      // A progress bar's carriage return starts a new line in the log.
      if (buf[i] == '\n' || buf[i] == '\r') {
        if (!line.empty()) flush_line(line);
        line.clear();
      } else {
        line += buf[i];
      }
    }
    log.flush();
  }
  if (!line.empty()) flush_line(line);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    last.push_back(std::string("killed by signal ") + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")");
  }
  for (const auto& l : last) r.tail += l + "\n";
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log << "# exit " << r.exit_code << (r.signal ? " signal " + std::to_string(r.signal) : "") << " after " << r.seconds
      << " s\n";
  return r;
}

}  // namespace advad::reproduce
