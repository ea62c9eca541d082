// advad: one binary, many subcommands (git-style).
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "core/error.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace {

struct Command {
  const char* name;
  int (*fn)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"run", advad::tools::cmd_run, "run a profile on a video in a GStreamer pipeline (the demo / main job)"},
    {"launch", advad::tools::cmd_launch, "run a gst-launch-1.0 style pipeline description to its end (recipes)"},
    {"serve", advad::tools::cmd_serve, "serve the annotated stream of cameras / files over RTSP (reconnects)"},
    {"train", advad::tools::cmd_train, "train a category on defect-free images (inpformer or cpr)"},
    {"predict", advad::tools::cmd_predict, "write anomaly maps (TIFF) and masks (PNG) for a dataset split"},
    {"eval", advad::tools::cmd_eval, "MVTec AD 2 metrics: AU-PRO, SegF1, ClassF1, AUROC"},
    {"calibrate", advad::tools::cmd_calibrate, "set a profile's threshold from defect-free data"},
    {"reproduce", advad::tools::cmd_reproduce, "the seed end to end over an MVTec AD 2 folder: train, calibrate, predict, eval, report"},
    {"submission", advad::tools::cmd_submission, "write, check and pack the MVTec AD 2 server layout"},
    {"import", advad::tools::cmd_import, "turn official checkpoints (.pth) into an advad model package"},
    {"bench", advad::tools::cmd_bench, "benchmarks, printed as tables"},
    {"make-demo", advad::tools::cmd_make_demo, "generate demo data: video, miniature dataset, tiny models"},
    {"synth", advad::tools::cmd_synth, "preview CPR pseudo-anomalies; 'synth mvtec-ad2' writes a synthetic MVTec AD 2"},
};

void usage(std::ostream& os) {
  os << "usage: advad <command> [options]\n\ncommands:\n";
  for (const auto& c : kCommands) {
    std::string n = c.name;
    n.resize(12, ' ');
    os << "  " << n << c.summary << "\n";
  }
  os << "\n'advad <command> --help' explains every flag of a command.\n";
}

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

// libgomp (LibTorch's OpenMP runtime) reads OMP_WAIT_POLICY once, when it is
// loaded, i.e. before main; by default its idle threads spin, which on a few
// cores makes the models 1.3-3.6x slower. Unless the user chose
// (OMP_WAIT_POLICY or GOMP_SPINCOUNT), run this binary again with passive
// waits: same argv, same environment plus OMP_WAIT_POLICY=PASSIVE; the exit
// code is the new image's. ADVAD_OMP_REEXEC marks the second start so it never
// loops. When exec fails (binary gone, no /proc) or under valgrind (the new
// image would run outside it), it goes on as it is: only the spinning stays.
void reexec_with_passive_omp_waits(char** argv) {
  if (env_set("ADVAD_OMP_REEXEC")) {
    unsetenv("ADVAD_OMP_REEXEC");
    return;
  }
  if (env_set("OMP_WAIT_POLICY") || env_set("GOMP_SPINCOUNT") || RUNNING_ON_VALGRIND) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0 || setenv("ADVAD_OMP_REEXEC", "1", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OMP_WAIT_POLICY");  // exec failed: leave the environment as it was
  unsetenv("ADVAD_OMP_REEXEC");
}

}  // namespace

int main(int argc, char** argv) {
  reexec_with_passive_omp_waits(argv);
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(std::cout);
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "advad " << ADVAD_VERSION << "\n";
    return 0;
  }
  for (const auto& c : kCommands) {
    if (cmd != c.name) continue;
    try {
      return c.fn(argc - 2, argv + 2);
    } catch (const advad::cli::UsageError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    } catch (const advad::Error& e) {
      std::cerr << "advad " << cmd << ": error: " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "advad " << cmd << ": internal error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "advad: unknown command '" << cmd << "'\n\n";
  usage(std::cerr);
  return 2;
}
