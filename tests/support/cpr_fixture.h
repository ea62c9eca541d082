// The CPR tests' fixture: fixture paths (tests/data/cpr, copied from
// the official-code fixtures tiny / tiny-object) and one cached network pass
// over the fixture's 6 training images and its query.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tensor_checks.h"
#include "test_support.h"
#include "cpr/bank/build.h"
#include "cpr/model/image.h"
#include "cpr/model/network.h"
#include "cpr/model/weights.h"
#include "io/npy.h"

namespace cprtest {

inline std::string data(const std::string& rel) { return advad::test::test_data("cpr/" + rel); }
inline torch::Tensor npy(const std::string& rel) { return advad::load_npy(data(rel)); }
inline std::string model_pth() { return data("model.pth"); }

// max_abs_diff is shape-checked (a mismatch fails the test instead of broadcasting).
using advad::test::max_abs_diff;
using advad::test::to_vec;

// The fixture network, its train features and the query's forward pass (computed once).
struct Fixture {
  advad::cpr::CprNetwork net{nullptr};
  std::vector<torch::Tensor> train_images;  // [3,320,320] each
  std::vector<std::string> train_names;
  torch::Tensor query_image;                // [3,320,320]
  advad::cpr::CprTrainFeatures train;       // tap0 + normalised heads of the 6 train images
  advad::cpr::CprForward query;             // raw forward of the query (batch of 1)
  std::array<torch::Tensor, 2> query_heads; // normalised, [D,h,w]
};

inline const Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->net = advad::cpr::CprNetwork();
    advad::cpr::load_cpr_weights(*fx->net, model_pth(), "");
    fx->net->eval();
    for (int i = 0; i < 6; ++i) {
      fx->train_names.push_back("train_00" + std::to_string(i) + ".png");
      fx->train_images.push_back(advad::cpr::load_cpr_input(data("tiny/" + fx->train_names.back()), 320, 320));
    }
    fx->query_image = advad::cpr::load_cpr_input(data("tiny/query.png"), 320, 320);
    fx->train = advad::cpr::extract_train_features(*fx->net, fx->train_images, torch::kCPU, 3);
    torch::NoGradGuard ng;
    fx->query = fx->net->forward(fx->query_image.unsqueeze(0));
    for (size_t s = 0; s < 2; ++s) fx->query_heads[s] = advad::cpr::l2_normalise(fx->query.heads[s])[0];
    return fx;
  }();
  return *f;
}

}  // namespace cprtest
