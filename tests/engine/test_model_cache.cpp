// The shared model cache: one loaded model per profile + model files +
// device + precision, freed with its last user; identities follow content.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/demo_model.h"
#include "engine/frame_scorer.h"
#include "engine/model_cache.h"
#include "test_support.h"

namespace advad {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const Profile> demo(const std::string& name, int input = 96) {
  DemoOptions o;
  o.input_size = input;
  const std::string ini = write_demo_package(test::test_tmp("engine", name), o);
  return std::make_shared<const Profile>(load_profile(ini));
}

ModelOptions cpu() {
  ModelOptions o;
  o.device = "cpu";
  o.threads = 2;
  return o;
}

TEST(ModelCache, SameProfileSharesOneModelUntilTheLastUserLetsGo) {
  auto p = demo("share");
  const size_t before = cached_model_count();
  bool a_cached = true, b_cached = false;
  auto a = acquire_model(p, cpu(), &a_cached);
  auto b = acquire_model(std::make_shared<const Profile>(load_profile(p->path)), cpu(), &b_cached);
  EXPECT_FALSE(a_cached) << "the first call builds the model";
  EXPECT_TRUE(b_cached) << "the second call says it shares";
  EXPECT_EQ(a.get(), b.get()) << "a second element on the same package gets the same model";
  EXPECT_EQ(a->model.get(), b->model.get());
  EXPECT_EQ(cached_model_count(), before + 1);
  EXPECT_GT(a->load_seconds, 0.0);
  a.reset();
  EXPECT_EQ(cached_model_count(), before + 1);
  b.reset();
  EXPECT_EQ(cached_model_count(), before);
}

TEST(ModelCache, IdentityNamesThePathAndChangesWithTheFiles) {
  auto p = demo("ident");
  const std::string id1 = model_identity(*p);
  EXPECT_EQ(id1.rfind(p->model + "@", 0), 0u) << id1;
  EXPECT_EQ(id1.size(), p->model.size() + 1 + 12);
  EXPECT_EQ(model_identity(*p), id1) << "stable";
  auto first = acquire_model(p, cpu());
  // A re-trained model in the same place is another model.
  DemoOptions other;
  other.input_size = 96;
  other.contrast = 20;
  write_demo_scorer(p->model, other);
  const std::string id2 = model_identity(*p);
  EXPECT_NE(id2, id1);
  auto second = acquire_model(p, cpu());
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(second->identity, id2);
}

TEST(ModelCache, ScorersOnOneSharedModelScoreFromTwoThreadsAsAlone) {
  auto p = demo("threads");
  auto shared = acquire_model(p, cpu());
  FrameScorer s1(p, shared->model, 0), s2(p, shared->model, 1);
  const cv::Mat f1 = make_synthetic_frame(160, 120, true, 5), f2 = make_synthetic_frame(160, 120, false, 6);
  const TileLayout layout = make_tile_layout(160, 120, p->tiling);
  const AnomalyMap ref1 = s1.score(f1, PixelFormat::RGB, layout), ref2 = s2.score(f2, PixelFormat::RGB, layout);
  double worst = 0;
  std::thread t1([&] {
    for (int i = 0; i < 10; ++i) worst = std::max(worst, cv::norm(s1.score(f1, PixelFormat::RGB, layout).map, ref1.map, cv::NORM_INF));
  });
  double worst2 = 0;
  std::thread t2([&] {
    for (int i = 0; i < 10; ++i) worst2 = std::max(worst2, cv::norm(s2.score(f2, PixelFormat::RGB, layout).map, ref2.map, cv::NORM_INF));
  });
  t1.join();
  t2.join();
  EXPECT_LE(worst, 1e-6);
  EXPECT_LE(worst2, 1e-6);
}

}  // namespace
}  // namespace advad
