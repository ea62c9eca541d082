// examples/score_image against `advad run`: on the frames of `advad make-demo`,
// the example's verdict, score and regions are those of the pipeline's JSON
// lines (advadinfer -> advadpostproc). Tolerance on the score: 1e-5 absolute;
// both sides run the same code in fp32, the margin only covers a different
// thread split inside LibTorch's convolution (observed: identical).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// stdout of a command; *code gets its exit status.
std::string capture(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// "key: value" lines of score_image; "region" lines in order.
struct ExampleOutput {
  std::map<std::string, std::string> keys;
  std::vector<std::vector<double>> regions;  // x y w h area max
};

ExampleOutput parse(const std::string& out) {
  ExampleOutput r;
  std::stringstream s(out);
  for (std::string line; std::getline(s, line);) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    if (key == "region") {
      std::stringstream v(value);
      std::vector<double> nums;
      for (double x; v >> x;) nums.push_back(x);
      r.regions.push_back(nums);
    } else {
      r.keys[key] = value;
    }
  }
  return r;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(ExampleScoreImage, MatchesAdvadRunOnTheDemoFrames) {
  const char* example = std::getenv("SCORE_IMAGE");
  ASSERT_NE(example, nullptr) << "SCORE_IMAGE is not set";
  const advad::test::TempDir tmp("example");
  const fs::path& dir = tmp.path();
  // 6 frames, a defect in every 2nd: both verdicts are compared.
  auto kit = advad::test::advad_cli("make-demo " + q(dir) + " --frames 6 --width 320 --height 240 --quiet");
  ASSERT_EQ(kit.code, 0) << kit.out;
  const fs::path jsonl = dir / "run.jsonl";
  auto run = advad::test::advad_cli("run --profile " + q(dir / "model") + " --input " + q(dir / "frames") +
                                    " --json " + q(jsonl) + " --threads 2 --quiet");
  ASSERT_EQ(run.code, 0) << run.out;

  std::vector<fs::path> frames;
  for (const auto& e : fs::directory_iterator(dir / "frames"))
    if (e.path().extension() == ".png") frames.push_back(e.path());
  std::sort(frames.begin(), frames.end());  // `advad run` feeds a folder sorted by name
  std::ifstream in(jsonl);
  std::vector<json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  ASSERT_EQ(lines.size(), frames.size());

  int defects = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(frames[i].filename().string());
    int code = -1;
    const ExampleOutput ex = parse(capture(std::string(example) + " " + q(dir / "model") + " " + q(frames[i]) +
                                               " --threads 2", &code));
    const json& ref = lines[i];
    ASSERT_EQ(ex.keys.count("verdict"), 1u);
    EXPECT_EQ(ex.keys.at("verdict"), ref["verdict"].get<std::string>());
    EXPECT_EQ(code, ref["verdict"] == "defect" ? 1 : 0);
    EXPECT_NEAR(std::stod(ex.keys.at("score")), ref["score"].get<double>(), 1e-5);
    EXPECT_NEAR(std::stod(ex.keys.at("threshold")), ref["threshold"].get<double>(), 1e-9);
    ASSERT_EQ(ex.regions.size(), ref["regions"].size());
    for (size_t k = 0; k < ex.regions.size(); ++k) {
      const json& g = ref["regions"][k];
      ASSERT_EQ(ex.regions[k].size(), 6u);
      EXPECT_EQ(ex.regions[k][0], g["x"].get<double>());
      EXPECT_EQ(ex.regions[k][1], g["y"].get<double>());
      EXPECT_EQ(ex.regions[k][2], g["width"].get<double>());
      EXPECT_EQ(ex.regions[k][3], g["height"].get<double>());
      EXPECT_EQ(ex.regions[k][4], g["area"].get<double>());
      EXPECT_NEAR(ex.regions[k][5], g["max_score"].get<double>(), 1e-5);
    }
    defects += ref["verdict"] == "defect" ? 1 : 0;
  }
  EXPECT_EQ(defects, 3) << "make-demo plants a defect in every 2nd frame";
}

}  // namespace
