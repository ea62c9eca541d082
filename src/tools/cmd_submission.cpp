// advad submission {write|check|pack}: the MVTec AD 2 evaluation server's
// upload layout (see src/data/submission.h), checked with the rules of the
// official check_and_prepare_data_for_upload.py.
#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "data/submission.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace advad::tools {
namespace fs = std::filesystem;
namespace {

const char* const kObjectsHelp =
    "objects and their images per private split as NAME:COUNT,... (default: the 8 MVTec AD 2 objects, "
    "can:321,fabric:314,fruit_jelly:255,rice:277,sheet_metal:142,vial:276,wallplugs:232,walnuts:228)";

ObjectCounts objects_of(const cli::Args& a) {
  if (!a.has("objects")) return mvtec_ad2_private_counts();
  try {
    return parse_object_counts(a.str("objects"));
  } catch (const InputError& e) {
    throw cli::UsageError(std::string("advad submission: --objects: ") + e.what());
  }
}

// Prints the report; returns true when the layout is valid.
bool print_report(const std::string& dir, const SubmissionReport& r) {
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  for (const auto& e : r.errors) std::cerr << "error: " << e << "\n";
  if (r.ok())
    std::cout << dir << ": valid submission (" << r.tiffs << " float16 TIFFs, " << r.pngs << " binary PNGs)\n";
  else
    std::cerr << dir << ": NOT a valid submission (" << r.errors.size() << " problems listed above)\n";
  return r.ok();
}

SubmissionCheckOptions check_options(const cli::Args& a) {
  SubmissionCheckOptions o;
  o.objects = objects_of(a);
  o.require_thresholded = a.on("require-thresholded");
  o.dataset_root = a.str("dataset");
  return o;
}

cli::Args& common_check_flags(cli::Args& a) {
  return a.option("objects", "LIST", kObjectsHelp)
      .flag("require-thresholded", "fail without anomaly_images_thresholded/ (VAND 2026 rule; the MVTec checker only warns)")
      .option("dataset", "DIR", "dataset root: also check that every map has its image's size (the server needs it)");
}

int run_check(int argc, char** argv) {
  cli::Args a("submission check",
              "Check a submission folder the way the official checker does: exactly anomaly_images/ (and optionally\n"
              "anomaly_images_thresholded/), exactly the objects, exactly test_private/ and test_private_mixed/,\n"
              "exactly NNN_regular / NNN_mixed files 000..N-1, TIFFs single-channel one-page float16, PNGs 2-D\n"
              "8-bit with values in {0, 255}. Exit code 2 when anything is wrong.");
  a.positional("dir", "the submission folder");
  common_check_flags(a);
  if (!a.parse(argc, argv)) return 0;
  const std::string dir = a.positionals()[0];
  return print_report(dir, check_submission(dir, check_options(a))) ? 0 : 2;
}

int run_write(int argc, char** argv) {
  cli::Args a("submission write",
              "Assemble a submission from advad predict outputs: copies test_private and test_private_mixed of every\n"
              "object, re-encoding maps as float16 TIFF and binary maps as 0/255 8-bit PNG, then checks the result.");
  a.positional("predictions", "the --out folder of advad predict (holding anomaly_images/)")
      .positional("dir", "the submission folder to write");
  common_check_flags(a);
  a.flag("no-thresholded", "write only anomaly_images/ (SegF1 and ClassF1 will be 0)");
  if (!a.parse(argc, argv)) return 0;
  const std::string in = a.positionals()[0], dir = a.positionals()[1];
  const auto opt = check_options(a);
  if (fs::exists(dir) && !fs::is_empty(dir))
    throw InputError("submission folder " + dir + " exists and is not empty; choose a new folder (stale files would fail the check)");
  const size_t n = write_submission(in, dir, opt.objects, !a.on("no-thresholded"));
  std::cout << "wrote " << n << " files to " << dir << "\n";
  return print_report(dir, check_submission(dir, opt)) ? 0 : 2;
}

int run_pack(int argc, char** argv) {
  cli::Args a("submission pack",
              "Check a submission folder and pack it into <dirname>.tar.gz (all paths start with <dirname>/), as the\n"
              "official script does. Nothing is packed when the check fails (exit code 2).");
  a.positional("dir", "the submission folder");
  common_check_flags(a);
  a.option("out", "FILE", "archive to write (default: <dirname>.tar.gz in the current folder)");
  if (!a.parse(argc, argv)) return 0;
  const std::string dir = a.positionals()[0];
  if (!print_report(dir, check_submission(dir, check_options(a)))) return 2;
  fs::path name = fs::absolute(dir).lexically_normal();
  if (name.filename().empty()) name = name.parent_path();
  const std::string out = a.has("out") ? a.str("out") : name.filename().string() + ".tar.gz";
  pack_submission(dir, out);
  std::cout << "packed " << out << " (" << fs::file_size(out) << " bytes)\n";
  return 0;
}

}  // namespace

int cmd_submission(int argc, char** argv) {
  const std::string what = argc > 0 ? argv[0] : "";
  if (what == "write") return run_write(argc - 1, argv + 1);
  if (what == "check") return run_check(argc - 1, argv + 1);
  if (what == "pack") return run_pack(argc - 1, argv + 1);
  std::ostream& os = (what == "--help" || what == "-h") ? std::cout : std::cerr;
  os << "usage: advad submission {write|check|pack} [options]\n\n"
        "  write <predictions> <dir>  assemble the server layout from advad predict outputs, then check it\n"
        "  check <dir>                check a submission folder like the official checker\n"
        "  pack <dir>                 check, then write <dirname>.tar.gz\n\n"
        "'advad submission <sub> --help' explains every flag.\n";
  if (!what.empty() && what != "--help" && what != "-h") os << "\nunknown subcommand '" << what << "'\n";
  return (what == "--help" || what == "-h") ? 0 : 2;
}

}  // namespace advad::tools
