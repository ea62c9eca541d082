// End-to-end: the built `advad` binary on generated miniature datasets
// (MVTec AD 2 and AD v1 layouts) with the demo TorchScript scorer:
// predict -> eval -> calibrate -> submission write/check/pack, and the exit
// code 2 + clear message for every kind of bad input.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <functional>
#include <map>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "test_support.h"
#include "core/demo_model.h"
#include "core/profile.h"
#include "data/image_io.h"
#include "data/mini_dataset.h"
#include "data/tiff_io.h"
#include "metrics/object_eval.h"

using namespace advad;
namespace fs = std::filesystem;

namespace {

using advad::test::advad_cli;
using advad::test::CliRun;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// One shared world for the whole file: a dataset in both layouts and a demo model.
class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new test::TempDir();
    MiniDatasetSpec s;
    s.category = "mini";
    s.n_train = 2;
    s.n_validation = 3;
    s.n_test_good = 3;
    s.n_test_bad = 4;
    s.n_private = 3;
    s.width = 96;
    s.height = 64;
    write_mini_dataset(data().string(), s);
    write_mini_dataset(data().string(), DatasetLayout::MvtecAD, "tex", 2, 2, 4, 80, 64, 3);
    DemoOptions o;
    o.levels = {GridLevel{1, 1}};
    o.input_size = 128;
    o.window = 15;
    o.min_area = 4;
    profile_ = write_demo_package((tmp_->path() / "model").string(), o);
  }
  static void TearDownTestSuite() { delete tmp_; }
  static fs::path data() { return tmp_->path() / "data"; }
  static fs::path dir(const std::string& name) { return tmp_->path() / name; }
  static test::TempDir* tmp_;
  static std::string profile_;
};
test::TempDir* EvalCli::tmp_ = nullptr;
std::string EvalCli::profile_;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

}  // namespace

TEST_F(EvalCli, PredictEvalRoundTripAd2) {
  const fs::path pred = dir("pred_ad2");
  CliRun r = advad_cli("predict " + q(profile_) + " --dataset " + q(data()) + " --category mini --split test_public --out " + q(pred));
  ASSERT_EQ(r.code, 0) << r.out;
  // Good and bad images share stems; both outputs exist side by side.
  EXPECT_TRUE(fs::exists(pred / "anomaly_images/mini/test_public/good/000_regular.tiff"));
  EXPECT_TRUE(fs::exists(pred / "anomaly_images/mini/test_public/bad/000_regular.tiff"));
  EXPECT_TRUE(fs::exists(pred / "anomaly_images_thresholded/mini/test_public/bad/003_shift_1.png"));
  const TiffInfo ti = read_tiff_info((pred / "anomaly_images/mini/test_public/bad/000_regular.tiff").string());
  EXPECT_TRUE(ti.is_float16());
  EXPECT_EQ(ti.width, 96);
  EXPECT_EQ(ti.height, 64);
  // Resume: nothing left to do.
  CliRun again = advad_cli("predict " + q(profile_) + " --dataset " + q(data()) + " --category mini --out " + q(pred));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("0 images to score, 7 already done"), std::string::npos) << again.out;

  const fs::path js = dir("eval_ad2.json"), csv = dir("eval_ad2.csv"), md = dir("eval_ad2.md"), png = dir("pro.png");
  CliRun e = advad_cli("eval --dataset " + q(data()) + " --maps " + q(pred) + " --json " + q(js) + " --csv " + q(csv) +
                    " --markdown " + q(md) + " --plot " + q(png) + " --quiet");
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("AU-PRO@0.05"), std::string::npos) << e.out;
  const auto j = read_json(js);
  ASSERT_EQ(j["objects"].size(), 1u);
  const auto& o = j["objects"][0];
  EXPECT_EQ(o["object"], "mini");
  EXPECT_EQ(o["split"], "test_public");
  EXPECT_EQ(o["images"], 7);
  EXPECT_EQ(o["anomalous_images"], 4);
  // Recompute in-process from the same files (exact mode) and compare with the CLI's float16 mode.
  ObjectEvaluator ev("mini", "test_public", PixelOptions{PixelMode::Exact, {0.05, 0.3}, 0.3, false});
  for (const auto& s : list_split(data().string(), "mini", "test_public").samples) {
    cv::Mat map = read_map((pred / "anomaly_images" / (s.rel + ".tiff")).string());
    cv::Mat gt = s.anomalous ? read_binary_mask(s.mask) : cv::Mat();
    cv::Mat bin = read_binary_mask((pred / "anomaly_images_thresholded" / (s.rel + ".png")).string());
    ev.add(map, gt, bin);
  }
  const ObjectResult ref = ev.finish();
  EXPECT_NEAR(o["au_pro"]["0.05"].get<double>(), ref.pixel.au_pro_at(0.05), 1e-12);
  EXPECT_NEAR(o["au_pro"]["0.3"].get<double>(), ref.pixel.au_pro_at(0.3), 1e-12);
  EXPECT_NEAR(o["seg_f1"].get<double>(), ref.seg_f1(), 1e-12);
  EXPECT_NEAR(o["class_f1"].get<double>(), ref.class_f1(), 1e-12);
  EXPECT_NEAR(o["pixel_auroc"].get<double>(), ref.pixel.pixel_auroc, 1e-12);
  // The demo scorer sees the planted defects: far better than chance (random ~ limit/2).
  EXPECT_GT(o["au_pro"]["0.3"].get<double>(), 0.5);
  EXPECT_GT(o["pixel_auroc"].get<double>(), 0.9);
  EXPECT_NEAR(j["mean"]["au_pro"]["0.05"].get<double>(), o["au_pro"]["0.05"].get<double>(), 1e-15);
  // The other outputs.
  std::ifstream c(csv);
  std::string header;
  std::getline(c, header);
  EXPECT_EQ(header.rfind("object,images,anomalous_images,AU-PRO@0.05,AU-PRO@0.3,SegF1,ClassF1,I-AUROC,P-AUROC", 0), 0u) << header;
  std::stringstream mds;
  mds << std::ifstream(md).rdbuf();
  EXPECT_NE(mds.str().find("| mini"), std::string::npos);
  cv::Mat plot = cv::imread(png.string());
  ASSERT_FALSE(plot.empty());
  EXPECT_GT(plot.cols, 400);

  // --threshold binarizes the maps instead of the PNGs; --mode exact agrees with float16 on float16 maps.
  CliRun t = advad_cli("eval --dataset " + q(data()) + " --maps " + q(pred) + " --threshold 0.5 --mode exact --limits 0.05,0.3,1 --json " +
                    q(dir("eval_thr.json")) + " --quiet");
  ASSERT_EQ(t.code, 0) << t.out;
  const auto jt = read_json(dir("eval_thr.json"));
  EXPECT_NEAR(jt["objects"][0]["au_pro"]["0.05"].get<double>(), o["au_pro"]["0.05"].get<double>(), 1e-12);
  EXPECT_TRUE(jt["objects"][0]["au_pro"].contains("1"));
}

TEST_F(EvalCli, AdV1LayoutPredictAndEval) {
  const fs::path pred = dir("pred_ad1");
  CliRun r = advad_cli("predict " + q(profile_) + " --dataset " + q(data()) + " --category tex --split test --out " + q(pred) +
                    " --float32 --no-binary");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(read_tiff_info((pred / "anomaly_images/tex/test/scratch/000.tiff").string()).bits_per_sample, 32);
  CliRun e = advad_cli("eval --dataset " + q(data()) + " --maps " + q(pred) + " --categories tex --mode exact --json " +
                    q(dir("ad1.json")) + " --quiet");
  ASSERT_EQ(e.code, 0) << e.out;
  const auto j = read_json(dir("ad1.json"));
  EXPECT_EQ(j["objects"][0]["split"], "test");
  EXPECT_EQ(j["objects"][0]["images"], 6);
  EXPECT_TRUE(j["objects"][0]["seg_f1"].is_null());  // no binary maps
  EXPECT_GT(j["objects"][0]["au_pro"]["0.3"].get<double>(), 0.3);
}

TEST_F(EvalCli, SubmissionWriteCheckPack) {
  const fs::path pred = dir("pred_priv");
  for (const char* split : {"test_private", "test_private_mixed"}) {
    CliRun r = advad_cli("predict " + q(profile_) + " --dataset " + q(data()) + " --category mini --split " + split +
                      " --out " + q(pred) + " --float32");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  const fs::path sub = dir("my_submission");
  CliRun w = advad_cli("submission write " + q(pred) + " " + q(sub) + " --objects mini:3");
  ASSERT_EQ(w.code, 0) << w.out;
  EXPECT_NE(w.out.find("valid submission (6 float16 TIFFs, 6 binary PNGs)"), std::string::npos) << w.out;
  EXPECT_TRUE(read_tiff_info((sub / "anomaly_images/mini/test_private_mixed/002_mixed.tiff").string()).is_float16());
  CliRun c = advad_cli("submission check " + q(sub) + " --objects mini:3 --dataset " + q(data()));
  ASSERT_EQ(c.code, 0) << c.out;
  // The official object list does not match this miniature one.
  CliRun off = advad_cli("submission check " + q(sub));
  EXPECT_EQ(off.code, 2);
  EXPECT_NE(off.out.find("missing folder"), std::string::npos) << off.out;
  EXPECT_NE(off.out.find("unexpected folder"), std::string::npos) << off.out;

  const fs::path tgz = dir("out.tar.gz");
  CliRun p = advad_cli("submission pack " + q(sub) + " --objects mini:3 --out " + q(tgz));
  ASSERT_EQ(p.code, 0) << p.out;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_filename(a, tgz.string().c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* e;
  int files = 0;
  bool all_prefixed = true;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const std::string name = archive_entry_pathname(e);
    all_prefixed = all_prefixed && name.rfind("my_submission", 0) == 0;
    if (archive_entry_filetype(e) == AE_IFREG) ++files;
  }
  archive_read_free(a);
  EXPECT_TRUE(all_prefixed);
  EXPECT_EQ(files, 12);

  // Malformed submissions: each gives exit 2 and names the problem.
  auto broken = [&](const std::string& name, const std::function<void(const fs::path&)>& damage, const std::string& expect) {
    const fs::path b = dir(name);
    fs::copy(sub, b, fs::copy_options::recursive);
    damage(b);
    CliRun r = advad_cli("submission check " + q(b) + " --objects mini:3");
    EXPECT_EQ(r.code, 2) << name << ": " << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << name << ": " << r.out;
    CliRun pk = advad_cli("submission pack " + q(b) + " --objects mini:3 --out " + q(dir(name + ".tar.gz")));
    EXPECT_EQ(pk.code, 2);
    EXPECT_FALSE(fs::exists(dir(name + ".tar.gz")));
  };
  broken("missing", [](const fs::path& b) { fs::remove(b / "anomaly_images/mini/test_private/001_regular.tiff"); },
         "missing file");
  broken("float32", [](const fs::path& b) {
    write_float_tiff((b / "anomaly_images/mini/test_private/000_regular.tiff").string(), cv::Mat(64, 96, CV_32F, cv::Scalar(0.5f)), MapDepth::Float32);
  }, "float32");
  broken("gray_png", [](const fs::path& b) {
    cv::imwrite((b / "anomaly_images_thresholded/mini/test_private/000_regular.png").string(), cv::Mat(64, 96, CV_8U, cv::Scalar(128)));
  }, "neither 0 nor 255");
  broken("extra", [](const fs::path& b) { std::ofstream(b / "anomaly_images/mini/test_private/003_regular.tiff") << "x"; },
         "unexpected");
  broken("wrong_suffix", [](const fs::path& b) {
    fs::rename(b / "anomaly_images/mini/test_private_mixed/000_mixed.tiff", b / "anomaly_images/mini/test_private_mixed/000_regular.tiff");
  }, "000_mixed.tiff");
  // Size check against the dataset.
  const fs::path small = dir("small_maps");
  fs::copy(sub, small, fs::copy_options::recursive);
  write_float_tiff((small / "anomaly_images/mini/test_private/000_regular.tiff").string(), cv::Mat(32, 48, CV_32F, cv::Scalar(0.5f)));
  CliRun sz = advad_cli("submission check " + q(small) + " --objects mini:3 --dataset " + q(data()));
  EXPECT_EQ(sz.code, 2);
  EXPECT_NE(sz.out.find("original resolution"), std::string::npos) << sz.out;
}

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
  for (const char* bad : {"1", "-0.1", "nan"}) {
    CliRun b = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --false-alarms " + bad);
    EXPECT_EQ(b.code, 2) << bad;
    EXPECT_NE(b.out.find("--false-alarms must be a fraction in [0, 1)"), std::string::npos) << b.out;
  }
  CliRun k = advad_cli("calibrate " + q(prof) + " --dataset " + q(data()) + " --category mini --k nan");
  EXPECT_EQ(k.code, 2);
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

TEST_F(EvalCli, BenchEvalModesAgree) {
  CliRun r = advad_cli("bench eval --images 4 --size 80x60");
  ASSERT_EQ(r.code, 0) << r.out;
  std::stringstream s(r.out);
  std::map<std::string, std::vector<std::string>> rows;
  for (std::string line; std::getline(s, line);) {
    std::stringstream ls(line);
    std::vector<std::string> f;
    for (std::string x; ls >> x;) f.push_back(x);
    if (f.size() == 9 && (f[0] == "float16" || f[0] == "exact")) rows[f[0]] = f;
  }
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows["float16"][6], rows["exact"][6]);  // AU-PRO@0.05
  EXPECT_EQ(rows["float16"][7], rows["exact"][7]);  // AU-PRO@0.3
}

TEST_F(EvalCli, BadInputGivesExitCode2AndAClearMessage) {
  struct Case {
    std::string args, expect;
  };
  const fs::path pred = dir("pred_bad");
  fs::create_directories(pred / "anomaly_images");
  const std::vector<Case> cases = {
      {"eval --dataset " + q(dir("nope")) + " --maps " + q(pred), "does not exist"},
      {"eval --dataset " + q(data()) + " --maps " + q(pred) + " --categories mini", "no anomaly map for mini/test_public"},
      {"eval --dataset " + q(data()) + " --maps " + q(pred) + " --limits 2", "outside (0,1]"},
      {"eval --dataset " + q(data()) + " --maps " + q(pred) + " --mode fast", "exact | float16"},
      {"eval --bogus", "unknown option --bogus"},
      {"eval --maps " + q(pred), "--dataset"},
      {"predict " + q(profile_) + " --dataset " + q(data()) + " --category mini --split test_privat --out " + q(pred),
       "valid splits"},
      {"predict " + q(profile_) + " --dataset " + q(data()) + " --category nope --out " + q(pred), "category 'nope'"},
      {"predict " + q(dir("none.ini")) + " --dataset " + q(data()) + " --out " + q(pred), "none.ini"},
      {"predict " + q(profile_) + " --dataset " + q(data()) + " --category mini --out " + q(pred) + " --batch -1", "--batch"},
      {"submission frobnicate", "unknown subcommand"},
      {"submission check " + q(dir("nowhere")), "does not exist"},
      {"submission check " + q(pred) + " --objects can:x", "NAME:COUNT"},
      {"bench eval --size 10", "WxH"},
  };
  for (const auto& c : cases) {
    CliRun r = advad_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << "\n" << r.out;
  }
}

TEST_F(EvalCli, BadFilesInTheDatasetGiveExitCode2Or3) {
  // A private copy of the dataset to damage.
  const fs::path d = dir("damaged");
  fs::create_directories(d / "mini");
  fs::copy(data() / "mini", d / "mini", fs::copy_options::recursive);
  const fs::path pred = dir("pred_damaged");
  ASSERT_EQ(advad_cli("predict " + q(profile_) + " --dataset " + q(d) + " --category mini --out " + q(pred)).code, 0);
  // Mask of another size.
  cv::imwrite((d / "mini/test_public/ground_truth/bad/001_overexposed_mask.png").string(), cv::Mat(10, 10, CV_8U, cv::Scalar(255)));
  CliRun r = advad_cli("eval --dataset " + q(d) + " --maps " + q(pred) + " --quiet");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("001_overexposed_mask.png is 10x10"), std::string::npos) << r.out;
  // A map of the wrong size.
  fs::remove(d / "mini/test_public/ground_truth/bad/001_overexposed_mask.png");
  CliRun m = advad_cli("eval --dataset " + q(d) + " --maps " + q(pred) + " --quiet");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.out.find("no ground-truth mask"), std::string::npos) << m.out;
  // An unreadable image: skipped with a warning naming it (exit 3), or with --strict an error (exit 2).
  fs::copy_file(data() / "mini/test_public/ground_truth/bad/001_overexposed_mask.png",
                d / "mini/test_public/ground_truth/bad/001_overexposed_mask.png");  // the mask back: only the image is bad
  std::ofstream(d / "mini/test_public/good/001_overexposed.png") << "not a png";
  CliRun u = advad_cli("predict " + q(profile_) + " --dataset " + q(d) + " --category mini --split test_public --out " +
                    q(dir("pred_damaged2")));
  EXPECT_EQ(u.code, 3) << u.out;
  EXPECT_NE(u.out.find("001_overexposed.png"), std::string::npos) << u.out;
  CliRun us = advad_cli("predict " + q(profile_) + " --dataset " + q(d) + " --category mini --split test_public --strict --out " +
                        q(dir("pred_damaged3")));
  EXPECT_EQ(us.code, 2) << us.out;
  EXPECT_NE(us.out.find("001_overexposed.png"), std::string::npos) << us.out;
  // A map that is not the image's size.
  write_float_tiff((pred / "anomaly_images/mini/test_public/good/000_regular.tiff").string(), cv::Mat(20, 20, CV_32F, cv::Scalar(0)));
  CliRun s = advad_cli("eval --dataset " + q(data()) + " --maps " + q(pred) + " --quiet");
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.out.find("original image resolution"), std::string::npos) << s.out;
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
