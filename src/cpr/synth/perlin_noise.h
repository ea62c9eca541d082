// 2-D gradient (Perlin) noise in the form DRAEM's rand_perlin_2d uses (and CPR
// copies): a (res_y+1) x (res_x+1) lattice of random unit gradients, the
// quintic fade 6t^5 - 15t^4 + 10t^3, bilinear blend of the four corner ramps,
// and a sqrt(2) gain so the values fill about [-1, 1].
// Any shape works: when res does not divide the side, the noise is computed
// on the next multiple of res (cells of ceil(side / res) pixels) and cropped.
#pragma once
#include <random>
#include <opencv2/core.hpp>

namespace advad::cpr {

// rows x cols CV_32F noise with res_y cells along the rows and res_x along
// the columns (both >= 1). Deterministic given rng's state.
cv::Mat perlin_noise_2d(int rows, int cols, int res_y, int res_x, std::mt19937_64& rng);

}  // namespace advad::cpr
