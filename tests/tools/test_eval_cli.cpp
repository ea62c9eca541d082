// End-to-end: the built `advad` binary on generated miniature datasets
// (MVTec AD 2 and AD v1 layouts) with the demo TorchScript scorer:
// predict -> eval -> submission write/check/pack, the eval benchmark, and the
// exit code 2 + clear message for every kind of bad input. (calibrate and
// make-demo --masks: test_calibrate_cli.cpp.)
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <functional>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/profile.h"
#include "data/image_io.h"
#include "data/tiff_io.h"
#include "eval_cli_fixture.h"
#include "metrics/object_eval.h"

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
