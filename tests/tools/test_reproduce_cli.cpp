// advad reproduce end to end through the binary, on the miniature MVTec AD 2
// (advad synth mvtec-ad2) with tests/data/reproduce/tiny.ini (tiny random
// networks, a few training steps): every step of every category runs, the
// submission passes the checker, the metrics are finite and above chance,
// a corrupt image is named while the rest completes, a second run does no
// work, a repaired input redoes only what depends on it, a failing category
// leaves the others alone, and bad flags exit 2.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "test_support.h"

namespace fs = std::filesystem;
using advad::test::advad_cli;

namespace {

const std::vector<std::string> kCategories = {"can",  "fabric", "fruit_jelly", "rice",
                                              "sheet_metal", "vial", "wallplugs", "walnuts"};

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// "steps: R ran, U up to date, ..." -> {R, U}
std::pair<int, int> ran_and_up_to_date(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("steps: (\\d+) ran, (\\d+) up to date"))) return {-1, -1};
  return {std::stoi(m[1]), std::stoi(m[2])};
}

std::string read(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string step_status(const fs::path& run, const std::string& cat, const std::string& step) {
  std::ifstream f(run / cat / "steps" / (step + ".json"));
  if (!f) return "(no record)";
  return nlohmann::json::parse(f).value("status", "");
}

class Reproduce : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = advad::test::test_tmp_dir("reproduce");
    const auto synth = advad_cli("synth mvtec-ad2 --quiet --out " + q(root_ / "data"));
    ASSERT_EQ(synth.code, 0) << synth.out;
  }
  static std::string run_args(const std::string& extra = "") {
    return "reproduce " + q(root_ / "data") + " --out " + q(root_ / "run") + " --overrides " +
           q(advad::test::test_data("reproduce/tiny.ini")) + " --quiet " + extra;
  }
  static fs::path root_;
};
fs::path Reproduce::root_;

TEST_F(Reproduce, WholeProtocolThenResumeRepairAndFailure) {
  const fs::path run = root_ / "run";
  const fs::path bad = root_ / "data" / "rice" / "validation" / "good" / "002_regular.png";
  const fs::path good_copy = root_ / "rice_validation_002.png";
  fs::copy_file(bad, good_copy);
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << "\x89PNG\r\n\x1a\n truncated by the test";

  // 1. Everything, with one corrupt validation image in rice.
  const auto first = advad_cli(run_args());
  EXPECT_EQ(first.code, 3) << "done, but an input was skipped\n" << first.out;
  EXPECT_NE(first.out.find("partial: rice calibrate: skipping " + bad.string()), std::string::npos) << first.out;
  // 8 x 7 category steps, one of them partial, and the submission.
  EXPECT_EQ(ran_and_up_to_date(first.out), std::make_pair(8 * 7 - 1 + 1, 0)) << first.out;
  for (const auto& c : kCategories)
    for (const std::string step : {"train", "calibrate", "predict_test_public", "eval_test_public", "figures",
                                   "predict_test_private", "predict_test_private_mixed"}) {
      const std::string st = step_status(run, c, step);
      if (c == "rice" && step == "calibrate")
        EXPECT_EQ(st, "partial");
      else
        EXPECT_EQ(st, "done") << c << " " << step;
    }
  ASSERT_TRUE(fs::exists(run / "submission.tar.gz")) << first.out;
  std::string objects;
  for (const auto& c : kCategories) objects += (objects.empty() ? "" : ",") + c + ":6";
  const auto check = advad_cli("submission check " + q(run / "submission") + " --objects " + objects + " --dataset " +
                               q(root_ / "data"));
  EXPECT_EQ(check.code, 0) << check.out;

  // Metrics: finite everywhere, above chance on the planted defects overall.
  double auroc_sum = 0;
  int above = 0;
  for (const auto& c : kCategories) {
    std::ifstream f(run / c / "eval.json");
    ASSERT_TRUE(f) << c;
    const auto o = nlohmann::json::parse(f).at("objects").at(0);
    for (const char* k : {"seg_f1", "class_f1", "image_auroc", "pixel_auroc"})
      EXPECT_TRUE(o.at(k).is_number() && std::isfinite(o.at(k).get<double>())) << c << " " << k;
    EXPECT_TRUE(o.at("au_pro").at("0.05").is_number()) << c;
    const double a = o.at("pixel_auroc").get<double>();
    auroc_sum += a;
    above += a > 0.5;
    // The report's pictures.
    EXPECT_TRUE(fs::exists(run / c / "figures" / "threshold_f1.png")) << c;
    EXPECT_TRUE(fs::exists(run / c / "figures" / "example_1.png")) << c;
    EXPECT_TRUE(fs::exists(run / c / "calibration.png")) << c;
    // The threshold came from validation and is the one every prediction used.
    const std::string pkg = read(run / c / "package" / "profile.ini");
    EXPECT_NE(pkg.find("rule=mean-std"), std::string::npos) << c;
    EXPECT_EQ(pkg.find("test_private_mixed="), std::string::npos) << c << ": the seed's per-split thresholds are dropped";
  }
  EXPECT_GT(auroc_sum / kCategories.size(), 0.55) << "mean pixel AUROC over the 8 categories";
  EXPECT_GE(above, 6) << "categories with pixel AUROC above chance";
  const std::string report = read(run / "report.md");
  for (const auto& c : kCategories) EXPECT_NE(report.find("| " + c + " |"), std::string::npos) << c;
  EXPECT_NE(report.find("46.55 / 40.67"), std::string::npos) << "the seed's can AU-PRO beside ours";
  EXPECT_NE(report.find("002_regular.png"), std::string::npos) << "the skipped file is in the report's problems";
  EXPECT_TRUE(fs::exists(run / "report_metrics.png"));

  // 2. A second run does no work, and still says an input was skipped.
  const auto second = advad_cli(run_args());
  EXPECT_EQ(second.code, 3) << second.out;
  EXPECT_EQ(ran_and_up_to_date(second.out), std::make_pair(0, 8 * 7 + 1)) << second.out;
  EXPECT_NE(second.out.find("nothing to do"), std::string::npos) << second.out;

  // 3. The image repaired: rice's calibration and what depends on it run again, nothing else.
  fs::copy_file(good_copy, bad, fs::copy_options::overwrite_existing);
  const auto third = advad_cli(run_args());
  EXPECT_EQ(third.code, 0) << third.out;
  const auto [ran3, up3] = ran_and_up_to_date(third.out);
  EXPECT_GE(ran3, 1) << third.out;
  EXPECT_LE(ran3, 7) << "at most rice's calibrate, predictions, eval, figures and the submission\n" << third.out;
  EXPECT_GE(up3, 7 * 7 + 1) << "every other category stays as it is\n" << third.out;
  EXPECT_EQ(step_status(run, "rice", "calibrate"), "done");
  EXPECT_NE(third.out.find("[1/"), std::string::npos);
  EXPECT_NE(third.out.find(" rice] calibrate"), std::string::npos) << third.out;

  // 4. A setting that breaks one method's training: those categories fail with
  // the key named, the others are untouched, the submission is not made from stale maps.
  const auto fourth = advad_cli(run_args("--set cpr:train.steps=-1"));
  EXPECT_EQ(fourth.code, 1) << fourth.out;
  for (const std::string c : {"fruit_jelly", "vial"}) {
    EXPECT_NE(fourth.out.find("failed: " + c + " train:"), std::string::npos) << fourth.out;
    EXPECT_NE(fourth.out.find("blocked: " + c + " predict test_private"), std::string::npos) << fourth.out;
  }
  EXPECT_NE(fourth.out.find("[train] steps"), std::string::npos) << fourth.out;
  EXPECT_NE(fourth.out.find("blocked: submission"), std::string::npos) << fourth.out;
  EXPECT_EQ(ran_and_up_to_date(fourth.out).first, 0) << "nothing else ran\n" << fourth.out;

  // 5. A variant on the same models (scripts/compare-seed-variants.sh): --packages takes the
  // earlier run folder, nothing is trained, the test-time pyramid is what changes.
  const fs::path variant = root_ / "variant";
  const auto fifth = advad_cli("reproduce " + q(root_ / "data") + " --out " + q(variant) + " --packages " + q(run) +
                               " --categories can --no-submission --quiet --set 'tiling.levels=1x1;2x2' --set "
                               "tiling.merge=mean");
  EXPECT_EQ(fifth.code, 0) << fifth.out;
  EXPECT_EQ(step_status(variant, "can", "package"), "done");
  EXPECT_EQ(step_status(variant, "can", "train"), "(no record)") << "a given package is not retrained";
  EXPECT_NE(read(variant / "can" / "package" / "profile.ini").find("levels=1x1;2x2"), std::string::npos);
  EXPECT_TRUE(fs::exists(variant / "can" / "eval.json"));
  EXPECT_NE(read(variant / "summary.csv").find("\ncan,inpformer,"), std::string::npos);
  EXPECT_EQ(read(run / "can" / "package" / "profile.ini").find("levels=1x1;2x2"), std::string::npos)
      << "the earlier run's package is linked, never modified";
}

TEST_F(Reproduce, DryRunShowsTheCostAndWritesNoModel) {
  const fs::path out = root_ / "dry";
  const auto r = advad_cli("reproduce " + q(root_ / "data") + " --out " + q(out) + " --categories can,vial --dry-run");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("can          inpformer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vial         cpr"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("76 images, 15 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("15 to run"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out / "can" / "package")) << "a dry run trains nothing";
}

TEST_F(Reproduce, BadUsageExitsTwoAndNamesTheCulprit) {
  const std::string data = q(root_ / "data");
  struct Case {
    std::string args;
    std::vector<std::string> frags;
  };
  const std::vector<Case> cases = {
      {"reproduce " + data, {"--out"}},
      {"reproduce " + data + " --out " + q(root_ / "x") + " --categories can,cheese", {"cheese", "cheese.ini"}},
      {"reproduce " + data + " --out " + q(root_ / "x") + " --rule best", {"--rule", "best", "mean-std"}},
      {"reproduce " + data + " --out " + q(root_ / "x") + " --set tiling.levels", {"tiling.levels", "'='"}},
      {"reproduce " + data + " --out " + q(root_ / "x") + " --categories can --set tiling.levels=banana",
       {"can", "levels", "banana"}},
      {"reproduce " + q(root_ / "nowhere") + " --out " + q(root_ / "x"), {"nowhere", "does not exist"}},
      {"reproduce " + data + " --out " + q(root_ / "x") + " --overrides " + q(root_ / "none.ini"), {"none.ini"}},
  };
  for (const auto& c : cases) {
    const auto r = advad_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    for (const auto& f : c.frags) EXPECT_NE(r.out.find(f), std::string::npos) << c.args << ": '" << f << "' in\n" << r.out;
  }
  const auto help = advad_cli("reproduce --help");
  EXPECT_EQ(help.code, 0);
  for (const char* flag : {"--out", "--categories", "--profiles", "--packages", "--device", "--rule", "--set",
                           "--overrides", "--examples", "--no-submission", "--dry-run", "--quiet"})
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
}

}  // namespace
