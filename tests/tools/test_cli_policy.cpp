// The one CLI policy, through the built `advad` (output captured: stderr is not
// a terminal): predict, run, calibrate and eval skip an unreadable or corrupt
// image with a warning naming it, print a summary and exit 3, and keep the
// other images' results; --strict stops at the first (exit 2); --quiet prints
// no progress; progress off a terminal is plain lines, the first without a
// rate; an estimate line comes before long work. Calibration refuses the
// training split of a model that may have seen it, and warns below 10 images.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "test_support.h"
#include "core/demo_model.h"
#include "data/mini_dataset.h"

using namespace advad;
namespace fs = std::filesystem;
using advad::test::advad_cli;
using advad::test::CliRun;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

void corrupt(const fs::path& p) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << "\x89PNG\r\n\x1a\n this is not a real PNG any more";
}

// Lines of the output that contain `what`.
std::vector<std::string> lines_with(const std::string& out, const std::string& what) {
  std::vector<std::string> r;
  std::stringstream s(out);
  for (std::string l; std::getline(s, l);)
    if (l.find(what) != std::string::npos) r.push_back(l);
  return r;
}

class CliPolicy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = advad::test::test_tmp_dir("clipolicy");
    DemoOptions o;
    o.levels = {GridLevel{1, 1}};
    o.input_size = 64;
    o.window = 15;
    o.min_area = 4;
    profile_ = write_demo_package((root_ / "model").string(), o);
  }
  // A fresh dataset per test (tests corrupt files in it).
  static fs::path dataset(const std::string& name) {
    MiniDatasetSpec s;
    s.category = "mini";
    s.n_train = 2;
    s.n_validation = 3;
    s.n_test_good = 2;
    s.n_test_bad = 3;
    s.n_private = 1;
    s.width = 64;
    s.height = 48;
    const fs::path d = root_ / name;
    fs::remove_all(d);
    write_mini_dataset(d.string(), s);
    return d;
  }
  static fs::path root_;
  static std::string profile_;
};
fs::path CliPolicy::root_;
std::string CliPolicy::profile_;

}  // namespace

TEST_F(CliPolicy, PredictSkipsACorruptImageAndExits3) {
  const fs::path data = dataset("predict");
  const fs::path bad = data / "mini/test_public/good/001_overexposed.png";
  ASSERT_TRUE(fs::exists(bad));
  corrupt(bad);
  const std::string base = "predict " + q(profile_) + " --dataset " + q(data) + " --category mini --split test_public";
  CliRun r = advad_cli(base + " --out " + q(root_ / "pred"));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("skipping " + bad.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped 1 of 5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote 4 maps"), std::string::npos) << r.out;
  const fs::path maps = root_ / "pred/anomaly_images/mini/test_public";
  EXPECT_TRUE(fs::exists(maps / "good/000_regular.tiff"));
  EXPECT_FALSE(fs::exists(maps / "good/001_overexposed.tiff"));
  for (const char* b : {"000_regular", "001_overexposed", "002_underexposed"})
    EXPECT_TRUE(fs::exists(maps / "bad" / (std::string(b) + ".tiff"))) << b;
  // Not a terminal: plain lines, no carriage returns; the first line has no rate; an estimate line.
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  const auto progress = lines_with(r.out, "predict mini/test_public ");
  ASSERT_GE(progress.size(), 2u) << r.out;
  EXPECT_NE(progress.front().find("1/5"), std::string::npos) << progress.front();
  EXPECT_EQ(progress.front().find("it/s"), std::string::npos) << "no rate from one item: " << progress.front();
  EXPECT_NE(progress.back().find("5/5"), std::string::npos) << progress.back();
  EXPECT_NE(r.out.find("estimate for 5"), std::string::npos) << r.out;

  CliRun strict = advad_cli(base + " --force --strict --out " + q(root_ / "pred_strict"));
  EXPECT_EQ(strict.code, 2) << strict.out;
  EXPECT_NE(strict.out.find(bad.string()), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find("--strict"), std::string::npos) << strict.out;

  CliRun quiet = advad_cli(base + " --force --quiet --out " + q(root_ / "pred_quiet"));
  EXPECT_EQ(quiet.code, 3) << quiet.out;
  EXPECT_TRUE(lines_with(quiet.out, "predict mini/test_public ").empty()) << quiet.out;
  EXPECT_EQ(quiet.out.find("estimate"), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("skipping " + bad.string()), std::string::npos) << "warnings stay: " << quiet.out;
}

TEST_F(CliPolicy, CalibrateSkipsACorruptImageWarnsAndRefusesTheTrainSplit) {
  const fs::path data = dataset("calibrate");
  const fs::path bad = data / "mini/validation/good/001_regular.png";
  ASSERT_TRUE(fs::exists(bad));
  corrupt(bad);
  const std::string base = "calibrate " + q(profile_) + " --dataset " + q(data) + " --category mini";
  CliRun r = advad_cli(base);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("skipping " + bad.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 defect-free images of validation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("only 2 images calibrate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("percentile"), std::string::npos) << r.out;

  CliRun strict = advad_cli(base + " --strict");
  EXPECT_EQ(strict.code, 2) << strict.out;
  EXPECT_NE(strict.out.find(bad.string()), std::string::npos) << strict.out;

  CliRun quiet = advad_cli(base + " --quiet");
  EXPECT_EQ(quiet.code, 3) << quiet.out;
  EXPECT_TRUE(lines_with(quiet.out, "calibrate mini/validation ").empty()) << quiet.out;

  CliRun train = advad_cli(base + " --split train");
  EXPECT_EQ(train.code, 2) << train.out;
  EXPECT_NE(train.out.find("--split validation"), std::string::npos) << train.out;
  CliRun allowed = advad_cli(base + " --split train --allow-train-split --quiet");
  EXPECT_EQ(allowed.code, 0) << allowed.out;
}

// One scale: the CSV's score is the map maximum on the threshold's scale, so
// a defect verdict always comes with score >= threshold; the method's own
// score is a separate column.
TEST_F(CliPolicy, PredictCsvPutsScoreOnTheThresholdsScale) {
  const fs::path data = dataset("csv");
  const fs::path out = root_ / "csv_pred", csv = root_ / "scores.csv";
  CliRun p = advad_cli("predict " + q(profile_) + " --dataset " + q(data) + " --category mini --quiet --out " +
                       q(out) + " --csv " + q(csv));
  ASSERT_EQ(p.code, 0) << p.out;
  std::ifstream f(csv);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "image,score,image_score,threshold,verdict");
  int rows = 0, defects = 0;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string image, score, image_score, threshold, verdict;
    std::getline(ss, image, ',');
    std::getline(ss, score, ',');
    std::getline(ss, image_score, ',');
    std::getline(ss, threshold, ',');
    std::getline(ss, verdict, ',');
    ++rows;
    EXPECT_FALSE(image_score.empty());
    if (verdict == "defect") {
      ++defects;
      EXPECT_GE(std::stod(score), std::stod(threshold)) << line;
    } else {
      EXPECT_EQ(verdict, "ok") << line;
    }
  }
  EXPECT_EQ(rows, 5);
  EXPECT_GE(defects, 1);
  CliRun bad = advad_cli("predict " + q(profile_) + " --dataset " + q(data) + " --category mini --quiet --force --out " +
                         q(out) + " --csv " + q(root_ / "no/such/dir/x.csv"));
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("no/such/dir/x.csv"), std::string::npos) << bad.out;
}

TEST_F(CliPolicy, EvalSkipsACorruptMapAndExits3) {
  const fs::path data = dataset("eval");
  const fs::path out = root_ / "eval_pred";
  CliRun p = advad_cli("predict " + q(profile_) + " --dataset " + q(data) + " --category mini --quiet --out " + q(out));
  ASSERT_EQ(p.code, 0) << p.out;
  const fs::path bad = out / "anomaly_images/mini/test_public/bad/001_overexposed.tiff";
  ASSERT_TRUE(fs::exists(bad));
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << "II*\0garbage";
  const std::string base = "eval --dataset " + q(data) + " --maps " + q(out);
  CliRun r = advad_cli(base);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("skipping " + bad.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AU-PRO"), std::string::npos) << "the other images' metrics: " << r.out;
  EXPECT_NE(r.out.find("skipped 1 of 5"), std::string::npos) << r.out;

  CliRun strict = advad_cli(base + " --strict");
  EXPECT_EQ(strict.code, 2) << strict.out;
  EXPECT_NE(strict.out.find(bad.string()), std::string::npos) << strict.out;

  CliRun quiet = advad_cli(base + " --quiet");
  EXPECT_EQ(quiet.code, 3) << quiet.out;
  EXPECT_TRUE(lines_with(quiet.out, "eval mini ").empty()) << quiet.out;
}

// A PNG of only a signature, an IHDR declaring w x h RGB pixels and IEND (CRCs
// right, so the decoder reads the header and refuses the size).
void write_size_bomb_png(const fs::path& file, uint32_t w, uint32_t h) {
  auto crc32 = [](const std::string& bytes) {
    uint32_t c = 0xffffffffu;
    for (unsigned char b : bytes) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
  };
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
  };
  const std::string ihdr = be32(w) + be32(h) + std::string{8, 2, 0, 0, 0};
  std::ofstream(file, std::ios::binary) << std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IEND", "");
}

TEST_F(CliPolicy, RunSkipsACorruptFrameAndExits3) {
  const fs::path frames = root_ / "frames";
  fs::create_directories(frames);
  for (int i = 0; i < 4; ++i)
    cv::imwrite((frames / ("f" + std::to_string(i) + ".png")).string(),
                make_synthetic_frame(64, 48, i % 2 == 1, static_cast<uint32_t>(i)));
  corrupt(frames / "f2.png");
  write_size_bomb_png(frames / "f4.png", 60000, 60000);  // OpenCV throws on its header; must not abort the run
  const fs::path json = root_ / "run.jsonl";
  const std::string base = "run --profile " + q(profile_) + " --input " + q(frames);
  CliRun r = advad_cli(base + " --json " + q(json));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("skipping " + (frames / "f2.png").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipping " + (frames / "f4.png").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 frames"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  std::ifstream f(json);
  int lines = 0;
  for (std::string l; std::getline(f, l);) lines += l.empty() ? 0 : 1;
  EXPECT_EQ(lines, 3) << "the other frames' results";

  CliRun strict = advad_cli(base + " --strict");
  EXPECT_EQ(strict.code, 2) << strict.out;
  EXPECT_NE(strict.out.find((frames / "f2.png").string()), std::string::npos) << strict.out;

  CliRun quiet = advad_cli(base + " --quiet");
  EXPECT_EQ(quiet.code, 3) << quiet.out;
  EXPECT_TRUE(lines_with(quiet.out, "advad run ").empty()) << quiet.out;
  EXPECT_NE(quiet.out.find("skipping"), std::string::npos) << quiet.out;
}

// An image the profile cannot tile (1x1 for a 2x2 grid) is skipped and named like a
// corrupt one; the pipeline would otherwise end the run without naming it.
TEST_F(CliPolicy, RunSkipsAnImageTooSmallToTileAndNamesIt) {
  DemoOptions o;
  o.levels = {GridLevel{2, 2}};
  const std::string grid = write_demo_package((root_ / "model22").string(), o);
  const fs::path frames = root_ / "small";
  fs::create_directories(frames);
  cv::imwrite((frames / "a.png").string(), make_synthetic_frame(64, 48, false, 3));
  cv::imwrite((frames / "b.png").string(), cv::Mat(1, 1, CV_8UC3, cv::Scalar(90, 90, 90)));
  const fs::path json = root_ / "small.jsonl";
  CliRun r = advad_cli("run --profile " + q(grid) + " --input " + q(frames) + " --json " + q(json));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("skipping " + (frames / "b.png").string() + ": tile layout: grid 2x2 does not fit a 1x1 frame"),
            std::string::npos)
      << r.out;
  std::ifstream f(json);
  int lines = 0;
  for (std::string l; std::getline(f, l);) lines += l.empty() ? 0 : 1;
  EXPECT_EQ(lines, 1) << "a.png is still scored";

  // predict and calibrate skip it the same way (before: "error: tile layout: …" without the file, exit 2).
  const fs::path d = dataset("small_ds");
  const fs::path tiny_test = d / "mini" / "test_public" / "good" / "tiny.png";
  const fs::path tiny_val = d / "mini" / "validation" / "good" / "tiny.png";
  for (const auto& t : {tiny_test, tiny_val}) cv::imwrite(t.string(), cv::Mat(1, 1, CV_8UC3, cv::Scalar(90, 90, 90)));
  CliRun p = advad_cli("predict " + q(grid) + " --dataset " + q(d) + " --category mini --split test_public --out " +
                       q(root_ / "small_pred"));
  EXPECT_EQ(p.code, 3) << p.out;
  EXPECT_NE(p.out.find("skipping " + tiny_test.string() + ": tile layout"), std::string::npos) << p.out;
  CliRun c = advad_cli("calibrate " + q(grid) + " --dataset " + q(d) + " --category mini");
  EXPECT_EQ(c.code, 3) << c.out;
  EXPECT_NE(c.out.find("skipping " + tiny_val.string() + ": tile layout"), std::string::npos) << c.out;
}

// No numeric flag takes NaN or infinity, and no command runs with negative threads.
TEST_F(CliPolicy, NumericFlagsRejectNanInfinityAndNegativeThreads) {
  const fs::path d = dataset("flags");
  const std::string pred = "predict " + q(profile_) + " --dataset " + q(d) + " --category mini --out " + q(root_ / "p");
  for (const std::string& cmd :
       {"eval --dataset " + q(d) + " --maps " + q(root_ / "p") + " --threshold nan",
        "eval --dataset " + q(d) + " --maps " + q(root_ / "p") + " --threshold inf",
        "calibrate " + q(profile_) + " --dataset " + q(d) + " --category mini --percentile -inf",
        "make-demo " + q(root_ / "demo_flags") + " --threshold nan"}) {
    CliRun r = advad_cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("expects a finite number, got '"), std::string::npos) << cmd << "\n" << r.out;
  }
  for (const std::string& cmd : {pred + " --threads -1", "calibrate " + q(profile_) + " --dataset " + q(d) +
                                                             " --category mini --threads -2"}) {
    CliRun r = advad_cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("threads must be >= 0"), std::string::npos) << cmd << "\n" << r.out;
  }
}

TEST_F(CliPolicy, LongCommandsHaveQuietAndStrict) {
  for (const char* cmd : {"predict", "run", "calibrate", "eval"}) {
    CliRun r = advad_cli(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("--quiet"), std::string::npos) << cmd;
    EXPECT_NE(r.out.find("--strict"), std::string::npos) << cmd;
  }
  for (const char* cmd : {"import inpformer", "import cpr", "synth", "make-demo"}) {
    CliRun r = advad_cli(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("--quiet"), std::string::npos) << cmd;
  }
}

// The benchmarks run end to end on tiny shapes (their speed is not a test):
// bench frame builds, saves and loads a random-weight package (it broke once
// when profiles started to require a category), bench inpformer runs each
// precision and batch size asked for, int8 included, and both write their rows as JSON.
TEST(CliBench, FrameAndInpformerRunOnTinyShapesAndWriteJson) {
  const advad::test::TempDir tmp_dir("cli_bench");
  const std::string tmp = tmp_dir.str();
  CliRun f = advad_cli("bench frame --frame 64x48 --grid 2x1 --encoder vit_small --size 28 --iters 1 --close 3 "
                       "--precision fp32 --threads 2 --json " + tmp + "/frame.json");
  ASSERT_EQ(f.code, 0) << f.out;
  std::ifstream fj(tmp + "/frame.json");
  std::stringstream fs_;
  fs_ << fj.rdbuf();
  EXPECT_NE(fs_.str().find("\"rows\""), std::string::npos) << fs_.str();
  CliRun b = advad_cli("bench inpformer --encoders vit_small --sizes 28 --iters 1 --precision fp32,int8 --batch 1,2 "
                       "--threads 2 --json " + tmp + "/inp.json");
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find(" int8 "), std::string::npos) << b.out;
  std::ifstream bj(tmp + "/inp.json");
  std::stringstream bs;
  bs << bj.rdbuf();
  const std::string json = bs.str();
  size_t rows = 0;
  for (size_t at = json.find("\"tokens\""); at != std::string::npos; at = json.find("\"tokens\"", at + 1)) ++rows;
  EXPECT_EQ(rows, 4u) << json;  // one row per precision and batch size
  EXPECT_NE(b.out.find("device cpu"), std::string::npos) << b.out;
  auto inp = nlohmann::json::parse(json);
  EXPECT_EQ(inp.value("device", ""), "cpu") << json;
  for (size_t i = 0; i < inp["rows"].size() && i < 4; ++i) {
    EXPECT_EQ(inp["rows"][i].value("batch", 0), i % 2 ? 2 : 1) << json;
    EXPECT_EQ(inp["rows"][i].value("device", ""), "cpu") << json;
  }
  CliRun bad = advad_cli("bench inpformer --encoders vit_small --sizes 28 --precision int4");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("int4"), std::string::npos) << bad.out;
  CliRun groups = advad_cli("bench inpformer --encoders vit_small --sizes 28 --iters 1 --maps groups --threads 2");
  EXPECT_EQ(groups.code, 0) << groups.out;
  CliRun bad_maps = advad_cli("bench inpformer --encoders vit_small --sizes 28 --maps blur");
  EXPECT_EQ(bad_maps.code, 2) << bad_maps.out;
  EXPECT_NE(bad_maps.out.find("--maps"), std::string::npos) << bad_maps.out;
}

// --device on the benchmarks: a bad name and cuda without a usable GPU are
// usage errors (exit 2) naming the device and the alternatives (one command
// each, the check is shared); bench frame takes a profile's tiling (the seed's
// can: one 4x2 grid) or a pyramid (--levels over fabric's profile) and its
// JSON lists every level's tiles.
TEST(CliBench, DeviceErrorsProfileAndPyramid) {
  const advad::test::TempDir tmp_dir("cli_bench_device");
  const std::string tmp = tmp_dir.str();
  auto read_json = [](const std::string& path) {  // non-const results: a missing key reads as null
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
  };
  CliRun bad = advad_cli("bench inpformer --encoders vit_small --sizes 28 --device nosuch");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--device"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("'nosuch'"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("auto | cpu | cuda | cuda:N"), std::string::npos) << bad.out;
  if (!torch::cuda::is_available()) {
    for (const char* cmd :
         {"bench frame --frame 64x48 --size 28 --device cuda", "bench live --seconds 1 --device cuda:1"}) {
      CliRun cuda = advad_cli(cmd);
      EXPECT_EQ(cuda.code, 2) << cmd << "\n" << cuda.out;
      EXPECT_NE(cuda.out.find("--device: device 'cuda"), std::string::npos) << cmd << "\n" << cuda.out;
      EXPECT_NE(cuda.out.find("no usable CUDA"), std::string::npos) << cmd << "\n" << cuda.out;
      EXPECT_NE(cuda.out.find("device=cpu"), std::string::npos) << cmd << "\n" << cuda.out;  // the alternative
    }
  }

  // The seed's can profile: its 4x2 grid and threshold; --size makes the model tiny.
  CliRun can = advad_cli("bench frame --profile " + advad::test::shipped_profile("can") +
                         " --iters 1 --encoder vit_small --size 56 --frame 256x256 --precision fp32 --threads 2 "
                         "--json " + tmp + "/can.json");
  ASSERT_EQ(can.code, 0) << can.out;
  EXPECT_NE(can.out.find("levels 4x2 (8 tiles)"), std::string::npos) << can.out;
  EXPECT_EQ(can.out.find("transfer"), std::string::npos) << can.out;  // no transfer rows on the CPU
  auto cj = read_json(tmp + "/can.json");
  EXPECT_EQ(cj["tiling"]["levels"], "4x2");
  EXPECT_EQ(cj["size"], 56);
  EXPECT_EQ(cj["device"], "cpu");
  EXPECT_NEAR(cj["postproc"]["threshold"].get<double>(), 80.0 / 255, 1e-9);
  ASSERT_EQ(cj["tile_rects"].size(), 8u) << cj.dump();
  EXPECT_EQ(cj["tile_rects"][7]["width"], 64);
  EXPECT_EQ(cj["tile_rects"][7]["height"], 128);
  EXPECT_EQ(cj["rows"].size(), 5u);  // 4 stages + total

  // A two-level pyramid over fabric's profile (its 80x80 closing kept): both levels' tiles listed.
  CliRun pyr = advad_cli("bench frame --profile " + advad::test::shipped_profile("fabric") +
                         " --levels '1x1;2x2' --iters 1 --encoder vit_small --size 56 --frame 256x256 --precision fp32 "
                         "--threads 2 --json " + tmp + "/pyr.json");
  ASSERT_EQ(pyr.code, 0) << pyr.out;
  auto pj = read_json(tmp + "/pyr.json");
  EXPECT_EQ(pj["tiling"]["levels"], "1x1;2x2");
  EXPECT_EQ(pj["postproc"]["close"], "80x80");
  ASSERT_EQ(pj["levels"].size(), 2u) << pj.dump();
  EXPECT_EQ(pj["levels"][0]["tiles"], 1);
  EXPECT_EQ(pj["levels"][1]["tiles"], 4);
  ASSERT_EQ(pj["tile_rects"].size(), 5u) << pj.dump();
  EXPECT_EQ(pj["tile_rects"][0]["level"], 0);
  EXPECT_EQ(pj["tile_rects"][0]["width"], 256);
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(pj["tile_rects"][i]["level"], 1);
    EXPECT_EQ(pj["tile_rects"][i]["width"], 128);
  }
  CliRun bad_levels = advad_cli("bench frame --levels '2x2;' --size 28");
  EXPECT_EQ(bad_levels.code, 2) << bad_levels.out;
  EXPECT_NE(bad_levels.out.find("--levels"), std::string::npos) << bad_levels.out;
}

// Numeric flags are checked whatever the input: a negative --threshold (the element's "use the
// profile" value) and --frames/--width/--height with an image folder are refused, not ignored.
TEST_F(CliPolicy, RunRefusesBadNumbersWhateverTheInput) {
  const fs::path data = dataset("runflags");
  const std::string base = "run --profile " + q(profile_) + " --input " + q(data / "mini/train/good") + " --quiet";
  for (auto [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--threshold", "-1"}, {"--threshold", "nan"}, {"--frames", "nan"}, {"--width", "inf"}, {"--height", "-1"}}) {
    CliRun r = advad_cli(base + " " + flag + " " + value);
    EXPECT_EQ(r.code, 2) << flag << " " << value << ": " << r.out;
    EXPECT_NE(r.out.find(flag), std::string::npos) << r.out;
  }
}
