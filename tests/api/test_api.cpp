// The public API (include/advad/advad.h) on the demo package: it finds planted
// defects, gives the internal chain's answers (FrameScorer -> postprocess),
// reads every pixel layout alike, keeps mask and regions consistent, and
// reports a missing profile or a frame it cannot score as advad::Error.
#include <advad/advad.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "core/demo_model.h"
#include "core/model.h"
#include "core/postproc.h"
#include "engine/frame_scorer.h"
#include "engine/model_factory.h"

namespace fs = std::filesystem;

namespace {

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = advad::test::test_tmp_dir("api");
    advad::DemoOptions o;
    o.input_size = 64;
    o.window = 15;
    o.min_area = 4;
    ini_ = advad::write_demo_package((dir_ / "model").string(), o);
  }

  static advad::ImageView view(const cv::Mat& m, advad::ImageFormat f) {
    advad::ImageView v;
    v.data = m.data;
    v.width = m.cols;
    v.height = m.rows;
    v.stride = m.step;
    v.format = f;
    return v;
  }
  static advad::DetectorOptions cpu() {
    advad::DetectorOptions o;
    o.device = "cpu";
    o.threads = 2;
    return o;
  }

  static inline fs::path dir_;
  static inline std::string ini_;
};

TEST_F(Api, FindsThePlantedDefectAndPassesACleanFrame) {
  advad::Detector d((dir_ / "model").string(), cpu());  // a package folder
  EXPECT_EQ(d.profile_path(), ini_);
  EXPECT_FALSE(d.model_description().empty());
  cv::Rect box;
  const cv::Mat bad = advad::make_synthetic_frame(160, 120, true, 3, &box);
  const advad::FrameResult r = d.score(view(bad, advad::ImageFormat::RGB8));
  ASSERT_EQ(r.width, 160);
  ASSERT_EQ(r.height, 120);
  EXPECT_TRUE(r.anomalous);
  ASSERT_EQ(r.regions.size(), 1u);
  const advad::DefectRegion& g = r.regions[0];
  EXPECT_GT((cv::Rect(g.x, g.y, g.width, g.height) & box).area(), 0);
  EXPECT_GE(r.score, r.threshold);
  EXPECT_DOUBLE_EQ(r.threshold, d.threshold());

  const advad::FrameResult ok = d.score(view(advad::make_synthetic_frame(160, 120, false, 4), advad::ImageFormat::RGB8));
  EXPECT_FALSE(ok.anomalous);
  EXPECT_TRUE(ok.regions.empty());
  EXPECT_LT(ok.score, ok.threshold);
}

// The library is FrameScorer + postprocess, the chain of advadinfer/advadpostproc and `advad predict`.
TEST_F(Api, GivesTheInternalChainsAnswers) {
  const cv::Mat frame = advad::make_synthetic_frame(150, 110, true, 7);
  const advad::FrameResult r = advad::Detector(ini_, cpu()).score(view(frame, advad::ImageFormat::RGB8));

  auto profile = std::make_shared<const advad::Profile>(advad::load_profile(ini_));
  advad::ModelOptions mo;
  mo.device = "cpu";
  mo.threads = 2;
  advad::FrameScorer scorer(profile, advad::create_model(*profile, mo), 0);
  const advad::AnomalyMap am =
      scorer.score(frame, advad::PixelFormat::RGB, advad::make_tile_layout(150, 110, profile->tiling));
  const advad::Detection det = advad::postprocess(am.map, am.score, profile->threshold, profile->post, frame);

  ASSERT_EQ(r.anomaly_map.size(), am.map.total());
  EXPECT_EQ(std::memcmp(r.anomaly_map.data(), am.map.ptr<float>(), am.map.total() * sizeof(float)), 0);
  ASSERT_EQ(r.mask.size(), det.mask.total());
  EXPECT_EQ(std::memcmp(r.mask.data(), det.mask.data, det.mask.total()), 0);
  EXPECT_EQ(r.anomalous, det.anomalous);
  EXPECT_EQ(r.score, det.score);
  EXPECT_EQ(r.image_score, det.image_score);
  ASSERT_EQ(r.regions.size(), det.regions.size());
  for (size_t i = 0; i < r.regions.size(); ++i) {
    EXPECT_EQ(cv::Rect(r.regions[i].x, r.regions[i].y, r.regions[i].width, r.regions[i].height), det.regions[i].box);
    EXPECT_EQ(r.regions[i].area, det.regions[i].area);
    EXPECT_EQ(r.regions[i].max_score, det.regions[i].max_score);
  }
}

TEST_F(Api, MaskAndRegionsAgree) {
  advad::Detector d(ini_, cpu());
  const advad::FrameResult r = d.score(view(advad::make_synthetic_frame(160, 120, true, 11), advad::ImageFormat::RGB8));
  ASSERT_TRUE(r.anomalous);
  const cv::Mat mask(r.height, r.width, CV_8U, const_cast<uint8_t*>(r.mask.data()));
  const cv::Mat map(r.height, r.width, CV_32F, const_cast<float*>(r.anomaly_map.data()));
  EXPECT_TRUE(std::all_of(r.mask.begin(), r.mask.end(), [](uint8_t v) { return v == 0 || v == 255; }));
  int total = 0;
  float map_max = 0;
  for (const advad::DefectRegion& g : r.regions) {
    const cv::Rect b(g.x, g.y, g.width, g.height);
    EXPECT_EQ(cv::countNonZero(mask(b)), g.area) << "regions are apart: each box holds its own pixels only";
    double region_max = 0;
    cv::minMaxLoc(map(b), nullptr, &region_max, nullptr, nullptr, mask(b));
    EXPECT_FLOAT_EQ(g.max_score, static_cast<float>(region_max));
    total += g.area;
    map_max = std::max(map_max, g.max_score);
  }
  EXPECT_EQ(cv::countNonZero(mask), total);
  EXPECT_FLOAT_EQ(r.score, *std::max_element(r.anomaly_map.begin(), r.anomaly_map.end()));  // no blur in the demo
  EXPECT_LE(map_max, r.score);
}

TEST_F(Api, ReadsRgbBgrGrayAndPaddedRowsAlike) {
  advad::Detector d(ini_, cpu());
  const cv::Mat rgb = advad::make_synthetic_frame(128, 96, true, 5);
  const advad::FrameResult a = d.score(view(rgb, advad::ImageFormat::RGB8));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  EXPECT_EQ(d.score(view(bgr, advad::ImageFormat::BGR8)).anomaly_map, a.anomaly_map);
  cv::Mat padded(96, 140, CV_8UC3, cv::Scalar::all(9));  // rows 140 * 3 bytes apart, 128 * 3 used
  rgb.copyTo(padded(cv::Rect(0, 0, 128, 96)));
  EXPECT_EQ(d.score(view(padded(cv::Rect(0, 0, 128, 96)), advad::ImageFormat::RGB8)).anomaly_map, a.anomaly_map);

  cv::Mat gray, gray3;
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
  cv::cvtColor(gray, gray3, cv::COLOR_GRAY2RGB);
  EXPECT_EQ(d.score(view(gray, advad::ImageFormat::Gray8)).anomaly_map,
            d.score(view(gray3, advad::ImageFormat::RGB8)).anomaly_map);
}

// Every failure is an advad::Error whose message says what is wrong and where.
TEST_F(Api, MissingProfileIsAnErrorNamingTheFile) {
  const std::string missing = (dir_ / "no_such_profile.ini").string();
  advad::test::expect_error<advad::Error>([&] { advad::Detector d(missing); }, {missing, "does not exist"});
  advad::test::expect_error<advad::Error>([&] { advad::Detector d(dir_.string()); },
                                          {(dir_ / "profile.ini").string()});
  advad::DetectorOptions o = cpu();
  o.split = "no_such_split";
  advad::test::expect_error<advad::Error>([&] { advad::Detector d(ini_, o); }, {"no_such_split", ini_});
}

TEST_F(Api, AFrameItCannotScoreIsAClearError) {
  advad::Detector d(ini_, cpu());  // demo tiling: 2x2
  const cv::Mat tiny(1, 1, CV_8UC3, cv::Scalar::all(0));
  advad::test::expect_error<advad::Error>([&] { d.score(view(tiny, advad::ImageFormat::RGB8)); },
                                          {"frame 1x1 does not fit the tiling of " + ini_, "grid 2x2"});
  advad::test::expect_error<advad::Error>([&] { d.score(advad::ImageView()); }, {"frame: no pixels"});
  const cv::Mat rgb = advad::make_synthetic_frame(64, 48, false, 1);
  advad::ImageView short_rows = view(rgb, advad::ImageFormat::RGB8);
  short_rows.stride = 64;  // a gray row, not an RGB one
  advad::test::expect_error<advad::Error>([&] { d.score(short_rows); }, {"stride 64", "192 bytes"});
  // After errors the detector still scores.
  EXPECT_EQ(d.score(view(rgb, advad::ImageFormat::RGB8)).width, 64);
}

}  // namespace
