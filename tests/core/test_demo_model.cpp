// The demo scorer: a TorchScript module built in C++ that finds a planted defect.
#include <gtest/gtest.h>

#include "core/demo_model.h"
#include "core/model.h"
#include "core/postproc.h"
#include "core/tile_layout.h"
#include "test_support.h"

namespace advad {
namespace {

Detection run_demo(const Profile& p, const cv::Mat& frame) {
  ModelOptions mo;
  mo.device = "cpu";
  mo.threads = 2;
  auto model = create_torchscript_model(p, mo);
  TileLayout layout = make_tile_layout(frame.cols, frame.rows, p.tiling);
  torch::Tensor batch = make_batch(frame, layout, p.input, model->device());
  std::vector<cv::Size> sizes;
  for (const auto& t : layout.tiles) sizes.push_back(t.rect.size());
  ScoredBatch sb = model->score(batch, sizes);
  AnomalyMap am = stitch(sb.maps, sb.scores, layout);
  return postprocess(am.map, am.score, p.threshold, p.post, frame);
}

TEST(DemoModel, FindsPlantedDefectAndPassesCleanFrames) {
  test::TempDir tmp;
  const std::string ini = write_demo_package(tmp.file("demo"));
  Profile p = load_profile(ini);
  EXPECT_EQ(p.method, "torchscript");
  int found = 0;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    cv::Rect box;
    cv::Mat defect = make_synthetic_frame(640, 480, true, seed, &box);
    ASSERT_FALSE(box.empty());
    Detection d = run_demo(p, defect);
    ASSERT_TRUE(d.anomalous) << "seed " << seed;
    // Every region must touch the planted defect (no false alarms elsewhere).
    for (const auto& r : d.regions) EXPECT_GT((r.box & box).area(), 0) << "seed " << seed;
    EXPECT_GE(d.score, p.threshold);
    found += !d.regions.empty();
    Detection clean = run_demo(p, make_synthetic_frame(640, 480, false, seed, nullptr));
    EXPECT_FALSE(clean.anomalous) << "seed " << seed << " max " << clean.score;
    EXPECT_LT(clean.score, p.threshold);
  }
  EXPECT_EQ(found, 3);
}

}  // namespace
}  // namespace advad
