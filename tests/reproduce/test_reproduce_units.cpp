// The pieces of advad reproduce that decide what runs: fingerprints, step
// records, run profiles with overrides, the child-process runner and the
// seed's figures. No model, no GStreamer (the whole command is tested through
// the binary in tests/tools/test_reproduce_cli.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/profile.h"
#include "data/mini_dataset.h"
#include "reproduce/child_process.h"
#include "reproduce/fingerprint.h"
#include "reproduce/report.h"
#include "reproduce/reproduce.h"
#include "reproduce/run_profile.h"
#include "reproduce/step_record.h"
#include "test_support.h"

using namespace advad;
using namespace advad::reproduce;
namespace fs = std::filesystem;

namespace {

std::string fp_of(const std::string& path) {
  Fingerprint f;
  f.add_path(path);
  return f.hex();
}

std::string read(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(ReproduceFingerprint, ChangesWithWhatAStepIsMadeFrom) {
  test::TempDir d("fp");
  const std::string dir = (d.path() / "split").string();
  fs::create_directories(dir);
  d.write("split/a.png", "aaaa");
  const std::string before = fp_of(dir);
  EXPECT_EQ(before, fp_of(dir)) << "same folder, same fingerprint";
  d.write("split/b.png", "bb");
  const std::string added = fp_of(dir);
  EXPECT_NE(before, added) << "a new image changes it";
  d.write("split/b.png", "bbb");
  EXPECT_NE(added, fp_of(dir)) << "a changed image changes it";
  EXPECT_NE(fp_of((d.path() / "missing").string()), fp_of(dir));

  Fingerprint t1, t2;
  t1.add_text("a", "bc");
  t2.add_text("ab", "c");
  EXPECT_NE(t1.hex(), t2.hex()) << "labels and texts do not run together";

  // Content, not time, for profiles rewritten with the same text.
  const std::string ini = d.write("p.ini", "[profile]\nmethod=cpr\n");
  Fingerprint c1;
  c1.add_file_content(ini);
  EXPECT_FALSE(write_if_changed(ini, "[profile]\nmethod=cpr\n")) << "same text: not rewritten";
  Fingerprint c2;
  c2.add_file_content(ini);
  EXPECT_EQ(c1.hex(), c2.hex());
  EXPECT_TRUE(write_if_changed(ini, "[profile]\nmethod=inpformer\n"));
  Fingerprint c3;
  c3.add_file_content(ini);
  EXPECT_NE(c1.hex(), c3.hex());
}

TEST(ReproduceStepRecord, RoundTripsAndSaysWhenUpToDate) {
  test::TempDir d("rec");
  const std::string path = d.file("steps/train.json");
  EXPECT_FALSE(load_step_record(path).has_value());
  StepRecord r;
  r.step = "predict test_public";
  r.fingerprint = "abc";
  r.outputs = "def";
  r.status = "done";
  r.seconds = 1.5;
  r.items = 7;
  r.command = "advad predict x";
  save_step_record(path, r);
  const auto back = load_step_record(path);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->step, r.step);
  EXPECT_EQ(back->items, 7);
  EXPECT_DOUBLE_EQ(back->seconds, 1.5);
  EXPECT_TRUE(back->up_to_date("abc", "def"));
  EXPECT_FALSE(back->up_to_date("abd", "def")) << "inputs changed";
  EXPECT_FALSE(back->up_to_date("abc", "xyz")) << "outputs changed since";
  StepRecord failed = r;
  failed.status = "failed";
  EXPECT_FALSE(failed.up_to_date("abc", "def"));
  failed.status = "started";  // interrupted
  EXPECT_FALSE(failed.up_to_date("abc", "def"));
  failed.status = "partial";  // done with skipped inputs: not redone until they change
  EXPECT_TRUE(failed.up_to_date("abc", "def"));
  // A damaged record only means the step runs again.
  d.write("steps/bad.json", "{ not json");
  EXPECT_FALSE(load_step_record(d.file("steps/bad.json")).has_value());
}

TEST(ReproduceOverrides, ParseAndRefuseClearly) {
  const auto o = parse_override("cpr:train.steps=20");
  EXPECT_EQ(o.method, "cpr");
  EXPECT_EQ(o.group, "train");
  EXPECT_EQ(o.key, "steps");
  EXPECT_EQ(o.value, "20");
  const auto g = parse_override("postproc.test_private_mixed.close=5");
  EXPECT_EQ(g.group, "postproc.test_private_mixed") << "the last dot separates the key";
  EXPECT_EQ(g.key, "close");
  EXPECT_EQ(parse_override("train.defects=").value, "");
  test::expect_error<InputError>([] { parse_override("train.steps"); }, {"train.steps", "no '='"});
  test::expect_error<InputError>([] { parse_override("steps=3"); }, {"steps=3", "GROUP.KEY"});
  test::expect_error<InputError>([] { parse_override("cnn:train.steps=3"); }, {"unknown method 'cnn'"});

  test::TempDir d("ovr");
  const auto file = d.write("o.ini", "[input]\nwidth=56\n[cpr:train]\nsteps=4\n");
  const auto list = read_override_file(file);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].method, "cpr");
  test::expect_error<InputError>([&] { read_override_file(d.write("bad.ini", "[input\nwidth")); }, {"bad.ini"});
  test::expect_error<InputError>([&] { read_override_file(d.file("none.ini")); }, {"none.ini"});
}

TEST(ReproduceRunProfile, SeedProfileWithOverridesLoadsAndPointsIntoTheRun) {
  test::TempDir d("runprof");
  const std::string seed = test::shipped_profile("walnuts");
  const std::vector<ProfileOverride> ovr = {parse_override("tiling.levels=1x1;2x2"), parse_override("tiling.merge=mean"),
                                            parse_override("cpr:train.steps=3"),
                                            parse_override("inpformer:train.iterations=7"),
                                            parse_override("train.lighting=")};
  const std::string pkg = (d.path() / "walnuts" / "package").string();
  const std::string text = make_run_profile(seed, ovr, pkg, "/data/mvtec_ad2/walnuts");
  const std::string ini = d.write("walnuts.ini", text);
  const Profile p = load_profile(ini, false);
  EXPECT_EQ(p.model, pkg);
  EXPECT_EQ(to_string(p.tiling.levels), "1x1;2x2");
  EXPECT_TRUE(p.split_thresholds.empty()) << "the seed's hand-tuned per-split thresholds are dropped";
  EXPECT_EQ(p.post_for("test_private_mixed").foreground_gate, true) << "per-split post-processing stays";
  EXPECT_NE(text.find("iterations=7"), std::string::npos) << "an inpformer override applies to walnuts";
  EXPECT_EQ(text.find("steps=3"), std::string::npos) << "a cpr override does not";
  EXPECT_EQ(text.find("lighting"), std::string::npos) << "an empty value removes the key";
  EXPECT_NE(text.find("data=/data/mvtec_ad2/walnuts"), std::string::npos);
  // The seed's relative weights path now points where the seed profile meant.
  const std::string weights = (fs::path(seed).parent_path() / "../../weights/dinov2_vitl14_reg4_pretrain.pth").lexically_normal().string();
  EXPECT_NE(text.find("encoder_weights=" + weights), std::string::npos) << text;

  // Training depends on [train] and the network, not on tiling or thresholds.
  const std::string other = make_run_profile(seed, {parse_override("tiling.levels=2x2")}, pkg, "/data/mvtec_ad2/walnuts");
  EXPECT_NE(text, other);
  EXPECT_NE(training_part(text), training_part(make_run_profile(seed, {}, pkg, "/data/mvtec_ad2/walnuts")))
      << "iterations changed";
  EXPECT_EQ(training_part(other), training_part(make_run_profile(seed, {}, pkg, "/data/mvtec_ad2/walnuts")))
      << "tiling alone does not retrain";

  // The package's profile: model '.', the calibrated threshold and how it was set.
  const std::string pkg_text = make_package_profile(text, 0.3125, {{"rule", "mean-std"}});
  fs::create_directories(pkg);
  std::ofstream(fs::path(pkg) / "profile.ini") << pkg_text;
  const Profile pp = load_profile((fs::path(pkg) / "profile.ini").string(), false);
  EXPECT_DOUBLE_EQ(pp.threshold, 0.3125);
  EXPECT_TRUE(fs::equivalent(pp.model, pkg)) << "model = . resolves to the package folder";
  EXPECT_NE(pkg_text.find("rule=mean-std"), std::string::npos);
  EXPECT_EQ(without_threshold(pkg_text).find("0.3125"), std::string::npos);
  EXPECT_EQ(method_of(text), "inpformer");
}

TEST(ReproduceChild, ExitCodesSignalsAndOutputAreKept) {
  test::TempDir d("child");
  const std::string log = d.file("logs/step.log");
  const ChildResult r = run_child({"/bin/sh", "-c", "echo one; echo two >&2; printf 'bar 1\\rbar 2\\n'; exit 3"}, log, false);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_NE(r.tail.find("one"), std::string::npos);
  EXPECT_NE(r.tail.find("two"), std::string::npos) << "stderr is kept too";
  const std::string text = read(log);
  EXPECT_NE(text.find("$ /bin/sh -c"), std::string::npos) << "the log starts with the command";
  EXPECT_NE(text.find("bar 1\nbar 2"), std::string::npos) << "a progress bar's \\r starts a line";
  EXPECT_NE(text.find("# exit 3"), std::string::npos);

  const ChildResult crash = run_child({"/bin/sh", "-c", "kill -SEGV $$"}, log, false);
  EXPECT_EQ(crash.exit_code, -1);
  EXPECT_EQ(crash.signal, 11);
  EXPECT_NE(crash.tail.find("signal 11"), std::string::npos);
  EXPECT_FALSE(crash.ok());

  const ChildResult missing = run_child({"/nonexistent/advad", "train"}, log, false);
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.tail.find("/nonexistent/advad"), std::string::npos);

  EXPECT_EQ(shell_line({"advad", "eval", "--set", "a b", "it's"}), "advad eval --set 'a b' 'it'\\''s'");
}

TEST(ReproduceSeedFigures, ShippedTableAndMalformedFiles) {
  const auto seed = read_seed_figures((fs::path(test::shipped_profile("can")).parent_path() / "seed_results.csv").string());
  ASSERT_EQ(seed.size(), 8u);
  EXPECT_EQ(seed[0].category, "can");
  EXPECT_DOUBLE_EQ(seed[0].au_pro_private, 46.55);
  EXPECT_DOUBLE_EQ(seed[1].segf1_private, 84.95);  // fabric
  test::TempDir d("seedcsv");
  EXPECT_TRUE(read_seed_figures(d.file("none.csv")).empty()) << "no file: no seed column values";
  test::expect_error<InputError>([&] { read_seed_figures(d.write("a.csv", "can,1,2,3\n")); }, {"a.csv:1", "5 comma-separated"});
  test::expect_error<InputError>([&] { read_seed_figures(d.write("b.csv", "# c\ncan,1,x,3,4\n")); }, {"b.csv:2", "'x'"});
}

TEST(ReproduceRun, ASecondRunInTheSameFolderIsRefusedWhileOneHoldsIt) {
  test::TempDir d("lock");
  MiniDatasetSpec spec;
  spec.category = "can";
  write_mini_dataset((d.path() / "data").string(), spec);
  ReproduceOptions o;
  o.dataset = (d.path() / "data").string();
  o.out = (d.path() / "run").string();
  o.profiles = fs::path(test::shipped_profile("can")).parent_path().string();
  o.categories = {"can"};
  o.dry_run = true;
  o.advad = "/bin/false";
  std::ostringstream log;
  // Free folder: the dry run plans every step.
  const ReproduceResult free_run = run_reproduce(o, log);
  EXPECT_EQ(free_run.count("planned"), 8) << log.str();
  EXPECT_NE(log.str().find("can          inpformer"), std::string::npos) << log.str();
  // Another run holds the folder.
  const int fd = open((d.path() / "run" / ".reproduce.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  test::expect_error<InputError>([&] { run_reproduce(o, log); }, {"another advad reproduce is running", o.out});
  close(fd);
  EXPECT_NO_THROW(run_reproduce(o, log)) << "released: runs again";
}

}  // namespace
