#include "metrics/trapezoid.h"

#include <cmath>
#include <stdexcept>

namespace advad {

void CurveIntegrator::push(double x, double y) {
  if (done_ || !std::isfinite(x) || !std::isfinite(y)) return;
  if (x <= x_max_) {
    if (has_prev_) area_ += 0.5 * (y + py_) * (x - px_);
    if (x == x_max_) hit_exactly_ = true;
    px_ = x;
    py_ = y;
    has_prev_ = true;
    return;
  }
  // First point beyond x_max: close with the interpolated piece (unless x_max was a sample).
  if (has_prev_ && !hit_exactly_) {
    const double y_interp = py_ + (y - py_) * (x_max_ - px_) / (x - px_);
    correction_ = 0.5 * (y_interp + py_) * (x_max_ - px_);
  }
  done_ = true;
}

double trapezoid_area(const std::vector<double>& x, const std::vector<double>& y, double x_max) {
  if (x.size() != y.size()) throw std::invalid_argument("trapezoid_area: x and y differ in length");
  CurveIntegrator c(x_max);
  for (size_t i = 0; i < x.size(); ++i) c.push(x[i], y[i]);
  return c.area();
}

}  // namespace advad
