// advad calibrate end to end on the generated miniature dataset: writing a
// rule into the profile (the rest kept), the false-alarm budget through the
// whole chain with its [calibration] record, --labelled / --min-area auto /
// --plot; and make-demo --masks, the ground truth the budget check uses.
#include <gtest/gtest.h>

#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "core/profile.h"
#include "data/image_io.h"
#include "eval_cli_fixture.h"

TEST_F(EvalCli, CalibrateWritesThresholdKeepingTheRest) {
  // A copy of the model package (the profile's model path is relative to it).
  fs::copy(fs::path(profile_).parent_path(), dir("model_calib"), fs::copy_options::recursive);
  const fs::path prof = dir("model_calib") / fs::path(profile_).filename();
  std::stringstream before;
  before << std::ifstream(prof).rdbuf();
  const std::string original = before.str();
  CliRun r = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --write max-f1 --key test_private");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* rule : {"mean-std", "percentile", "max-f1"}) EXPECT_NE(r.out.find(rule), std::string::npos) << r.out;
  const Profile p = load_profile(prof.string(), false);
  const Profile old = load_profile(profile_, false);
  ASSERT_TRUE(p.split_thresholds.count("test_private"));
  EXPECT_EQ(p.threshold, old.threshold);  // default untouched
  const double t = p.split_thresholds.at("test_private");
  EXPECT_GT(t, 0.0);
  std::stringstream after;
  after << std::ifstream(prof).rdbuf();
  // Every original line except the edited group is still there, in order.
  std::stringstream a(original);
  size_t pos = 0;
  for (std::string line; std::getline(a, line);) {
    const size_t at = after.str().find(line, pos);
    ASSERT_NE(at, std::string::npos) << "lost line: " << line;
    pos = at + line.size();
  }
  CliRun bad = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --write=best");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("false-alarms | mean-std | percentile | max-f1 | labelled-f1, got 'best'"), std::string::npos) << bad.out;
  // Not a rule after a bare --write: then it is an extra argument.
  CliRun extra = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --write best");
  EXPECT_EQ(extra.code, 2);
  EXPECT_NE(extra.out.find("unexpected argument 'best'"), std::string::npos) << extra.out;
  CliRun on_test = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --split test_public");
  EXPECT_EQ(on_test.code, 2);
  EXPECT_NE(on_test.out.find("defect-free"), std::string::npos) << on_test.out;
}

TEST_F(EvalCli, CalibrateToAFalseAlarmBudgetThroughTheWholeChain) {
  fs::copy(fs::path(profile_).parent_path(), dir("model_budget"), fs::copy_options::recursive);
  const fs::path prof = dir("model_budget") / fs::path(profile_).filename();
  const fs::path js = dir("budget_json") / "calibrate.json";
  fs::create_directories(js.parent_path());
  // A bare --write (the positional after it is not a rule) writes the false-alarms rule.
  CliRun r = advad_cli("calibrate --dataset " + q(data()) + " --category mini --false-alarms 0.34 --json " + q(js) +
                       " --write " + q(prof));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("validation px FPR %"), std::string::npos) << r.out;  // the split's name, not "val."
  EXPECT_NE(r.out.find("(false-alarms) to"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cannot show a false-alarm rate below 34"), std::string::npos) << r.out;  // 3 images
  const nlohmann::json doc = read_json(js);
  ASSERT_EQ(doc.at("rules").at(0).at("rule"), "false-alarms");
  const nlohmann::json fa = doc.at("rules").at(0);
  const int flagged = fa.at("images_flagged");
  EXPECT_EQ(doc.at("images"), 3);
  EXPECT_LE(flagged, 1);  // floor(0.34 * 3)
  EXPECT_GT(doc.at("false_alarm_upper95").get<double>(), 0.6);
  const Profile p = load_profile(prof.string(), false);
  EXPECT_FLOAT_EQ(static_cast<float>(p.threshold), static_cast<float>(fa.at("threshold").get<double>()));
  // The elements' own chain on the same images agrees on how many are flagged.
  const fs::path lines = dir("budget_json") / "run.jsonl";
  CliRun run = advad_cli("run --profile " + q(prof) + " --input " + q(data() / "mini/validation/good") +
                         " --json " + q(lines) + " --quiet");
  ASSERT_EQ(run.code, 0) << run.out;
  std::ifstream in(lines);
  int defects = 0, frames = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    ++frames;
    defects += j.at("verdict") == "defect" ? 1 : 0;
  }
  EXPECT_EQ(frames, 3);
  EXPECT_EQ(defects, flagged);
  // The profile records how the threshold was set, and the budget is the next run's default.
  const auto& rec = p.method_groups.at("calibration");
  EXPECT_EQ(rec.at("rule"), "false-alarms");
  EXPECT_EQ(rec.at("false_alarms"), "0.34");
  EXPECT_EQ(rec.at("images"), "3");
  EXPECT_EQ(rec.at("images_flagged"), std::to_string(flagged));
  EXPECT_NEAR(std::stod(rec.at("false_alarm_bound")), doc.at("false_alarm_upper95").get<double>(), 1e-12);
  EXPECT_TRUE(fs::equivalent(fs::path(prof).parent_path() / rec.at("data"), data() / "mini/validation"));
  CliRun again = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --write percentile");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("false-alarm budget 0.34 from [calibration] false_alarms"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("at most 34 % of 3 images flagged"), std::string::npos) << again.out;
  const Profile p2 = load_profile(prof.string(), false);
  const auto& rec2 = p2.method_groups.at("calibration");
  EXPECT_EQ(rec2.at("rule"), "percentile");
  EXPECT_EQ(rec2.at("percentile"), "99.9");
  EXPECT_EQ(rec2.count("k"), 0u);  // a rule's own keys only
  // A bad record is a profile error naming the key.
  {
    std::ifstream f(prof);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    const auto at = text.find("false_alarms = 0.34");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 19, "false_alarms = 1.5");
    std::ofstream(prof) << text;
  }
  CliRun broken = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini");
  EXPECT_EQ(broken.code, 2) << broken.out;
  EXPECT_NE(broken.out.find("[calibration] false_alarms"), std::string::npos) << broken.out;
  // Out of range, and not a finite number (every numeric flag's rule).
  for (const auto& [bad, says] : std::vector<std::pair<std::string, std::string>>{
           {"1", "--false-alarms must be a fraction in [0, 1)"},
           {"-0.1", "--false-alarms must be a fraction in [0, 1)"},
           {"nan", "--false-alarms expects a finite number, got 'nan'"}}) {
    CliRun b = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --false-alarms " + bad);
    EXPECT_EQ(b.code, 2) << bad;
    EXPECT_NE(b.out.find(says), std::string::npos) << b.out;
  }
  CliRun k = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --k nan");
  EXPECT_EQ(k.code, 2);
  EXPECT_NE(k.out.find("--k expects a finite number"), std::string::npos) << k.out;
}

TEST_F(EvalCli, CalibrateLabelledMinAreaAutoAndPlot) {
  fs::copy(fs::path(profile_).parent_path(), dir("model_labelled"), fs::copy_options::recursive);
  const fs::path prof = dir("model_labelled") / fs::path(profile_).filename();
  const fs::path out = dir("labelled_out"), js = out / "calibrate.json", png = out / "calibrate.png";
  fs::create_directories(out);
  CliRun r = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --false-alarms 0.34" +
                       " --labelled test_public --min-area auto --plot " + q(png) + " --json " + q(js) +
                       " --write labelled-f1");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* s : {"min_area candidates", "<- chosen", "within budget", "F1-best", "labelled-f1", "plot: "})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  const nlohmann::json doc = read_json(js);
  const double t_fa = doc.at("rules").at(0).at("threshold");
  const nlohmann::json in = doc.at("labelled").at("within_budget"), best = doc.at("labelled").at("f1_best");
  EXPECT_GE(in.at("threshold").get<double>(), t_fa);
  EXPECT_LE(in.at("seg_f1").get<double>(), best.at("seg_f1").get<double>());
  EXPECT_EQ(in.at("good"), 3);
  ASSERT_EQ(doc.at("rules").back().at("rule"), "labelled-f1");
  // min_area: the profile's value (4) and 0, 16, 64, 256, 1024; the chosen one finds the most pseudo-defects.
  const nlohmann::json cands = doc.at("min_area_candidates");
  ASSERT_EQ(cands.size(), 6u);
  EXPECT_EQ(cands.at(0).at("min_area"), 4);
  int most = 0;
  for (const auto& c : cands) {
    most = std::max(most, c.at("pseudo_defects_found").get<int>());
    EXPECT_LE(c.at("images_flagged").get<int>(), 1);  // floor(0.34 * 3), at each min_area's own threshold
  }
  const int chosen = doc.at("min_area");
  for (const auto& c : cands) {
    if (c.at("min_area") == chosen) {
      EXPECT_EQ(c.at("pseudo_defects_found").get<int>(), most);
    }
  }
  // Written: the threshold and min_area; the profile loads.
  const Profile p = load_profile(prof.string(), false);
  EXPECT_FLOAT_EQ(static_cast<float>(p.threshold), static_cast<float>(in.at("threshold").get<double>()));
  EXPECT_EQ(p.post.min_area, chosen);
  // advad predict with the written profile + advad eval: the same SegF1 and ClassF1 as calibrate reported.
  const fs::path pred = out / "pred";
  CliRun pr = advad_cli("predict " + q(prof) + " --dataset " + q(data()) + " --category mini --split test_public --out " + q(pred));
  ASSERT_EQ(pr.code, 0) << pr.out;
  CliRun e = advad_cli("eval --dataset " + q(data()) + " --maps " + q(pred) + " --json " + q(out / "eval.json") + " --quiet");
  ASSERT_EQ(e.code, 0) << e.out;
  const auto o = read_json(out / "eval.json")["objects"][0];
  EXPECT_NEAR(o["seg_f1"].get<double>(), in.at("seg_f1").get<double>(), 1e-9);
  EXPECT_NEAR(o["class_f1"].get<double>(), in.at("class_f1").get<double>(), 1e-9);
  // The plot: a PNG of the drawn size, not blank.
  const cv::Mat img = cv::imread(png.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 960);
  EXPECT_EQ(img.rows, 600);
  cv::Mat grey;
  cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
  EXPECT_GT(cv::countNonZero(grey < 250), 2000);
  // Refusals.
  CliRun no_lab = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --write labelled-f1");
  EXPECT_EQ(no_lab.code, 2);
  EXPECT_NE(no_lab.out.find("needs --labelled"), std::string::npos) << no_lab.out;
  CliRun bad_area = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --min-area 7");
  EXPECT_EQ(bad_area.code, 2);
  CliRun good_only = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --labelled validation");
  EXPECT_EQ(good_only.code, 2);
  EXPECT_NE(good_only.out.find("no labelled defective image"), std::string::npos) << good_only.out;
}

// make-demo --masks: each defect frame's mask is exactly its blob (bounding box
// = labels.csv's box), clean frames get none.
TEST_F(EvalCli, MakeDemoMasksAreThePlantedBlobs) {
  const fs::path out = dir("demo_masks");
  CliRun r = advad_cli("make-demo " + q(out) + " --frames 4 --width 96 --height 64 --tiling 1x1 --masks --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream labels(out / "frames/labels.csv");
  std::string line;
  std::getline(labels, line);  // header
  int defects = 0;
  while (std::getline(labels, line)) {
    std::stringstream ss(line);
    std::string name, f[5];
    std::getline(ss, name, ',');
    for (auto& v : f) std::getline(ss, v, ',');
    const fs::path mask = out / "frames/masks" / (fs::path(name).stem().string() + "_mask.png");
    if (f[0] == "0") {
      EXPECT_FALSE(fs::exists(mask)) << mask;
      continue;
    }
    ++defects;
    const cv::Mat m = cv::imread(mask.string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(m.empty()) << mask;
    ASSERT_EQ(m.type(), CV_8U);
    EXPECT_EQ(cv::countNonZero(m > 0), cv::countNonZero(m == 255));  // 0/255 only
    const cv::Rect box = cv::boundingRect(m);
    EXPECT_EQ(box, cv::Rect(std::stoi(f[1]), std::stoi(f[2]), std::stoi(f[3]), std::stoi(f[4]))) << name;
    EXPECT_GT(cv::countNonZero(m), box.area() / 2);  // a filled ellipse, not its outline
  }
  EXPECT_EQ(defects, 2);
}
