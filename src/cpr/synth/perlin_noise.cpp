#include "cpr/synth/perlin_noise.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace advad::cpr {
namespace {

inline float fade(float t) { return t * t * t * (t * (t * 6.0f - 15.0f) + 10.0f); }

}  // namespace

cv::Mat perlin_noise_2d(int rows, int cols, int res_y, int res_x, std::mt19937_64& rng) {
  if (rows < 1 || cols < 1 || res_y < 1 || res_x < 1)
    throw std::invalid_argument("perlin_noise_2d: shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " and resolution " + std::to_string(res_y) + "x" + std::to_string(res_x) +
                                " must all be >= 1");
  // Cell size in pixels; a side that res does not divide is padded up to
  // cell * res and the extra pixels are never written.
  const int cell_y = (rows + res_y - 1) / res_y;
  const int cell_x = (cols + res_x - 1) / res_x;

  // Lattice gradients: angle uniform in [0, 2 pi), (cos, sin) = (row, column) component.
  const int gy_n = res_y + 1, gx_n = res_x + 1;
  std::vector<float> grad_r(static_cast<size_t>(gy_n * gx_n)), grad_c(grad_r.size());
  std::uniform_real_distribution<double> angle(0.0, 2.0 * M_PI);
  for (size_t i = 0; i < grad_r.size(); ++i) {
    const double a = angle(rng);
    grad_r[i] = static_cast<float>(std::cos(a));
    grad_c[i] = static_cast<float>(std::sin(a));
  }
  auto g = [&](int gy, int gx) { return static_cast<size_t>(gy * gx_n + gx); };

  // Position inside the cell (in [0,1)) and its fade, per row and per column.
  std::vector<float> fy(static_cast<size_t>(cell_y)), ty(fy.size()), fx(static_cast<size_t>(cell_x)), tx(fx.size());
  for (int i = 0; i < cell_y; ++i) {
    fy[static_cast<size_t>(i)] = static_cast<float>(i) / static_cast<float>(cell_y);
    ty[static_cast<size_t>(i)] = fade(fy[static_cast<size_t>(i)]);
  }
  for (int j = 0; j < cell_x; ++j) {
    fx[static_cast<size_t>(j)] = static_cast<float>(j) / static_cast<float>(cell_x);
    tx[static_cast<size_t>(j)] = fade(fx[static_cast<size_t>(j)]);
  }

  const float gain = std::sqrt(2.0f);
  cv::Mat out(rows, cols, CV_32F);
  for (int y = 0; y < rows; ++y) {
    const int cy = y / cell_y;
    const size_t iy = static_cast<size_t>(y % cell_y);
    const float u = fy[iy], tu = ty[iy];
    float* o = out.ptr<float>(y);
    for (int x = 0; x < cols; ++x) {
      const int cx = x / cell_x;
      const size_t ix = static_cast<size_t>(x % cell_x);
      const float v = fx[ix], tv = tx[ix];
      // Ramps from the four corners: gradient . (offset of the pixel from the corner).
      const size_t a = g(cy, cx), b = g(cy + 1, cx), c = g(cy, cx + 1), d = g(cy + 1, cx + 1);
      const float n00 = grad_r[a] * u + grad_c[a] * v;
      const float n10 = grad_r[b] * (u - 1.0f) + grad_c[b] * v;
      const float n01 = grad_r[c] * u + grad_c[c] * (v - 1.0f);
      const float n11 = grad_r[d] * (u - 1.0f) + grad_c[d] * (v - 1.0f);
      // Blend along the rows first, then along the columns.
      const float n0 = n00 + tu * (n10 - n00);
      const float n1 = n01 + tu * (n11 - n01);
      o[x] = gain * (n0 + tv * (n1 - n0));
    }
  }
  return out;
}

}  // namespace advad::cpr
