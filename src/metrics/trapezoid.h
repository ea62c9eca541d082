// The area under a curve up to x_max, as the MVTec AD evaluation code's
// generic_util.trapezoid computes it: trapezoids over the points with
// x <= x_max, plus, when x_max is not itself a sample, a piece up to x_max
// with y linearly interpolated between the last point at or before x_max and
// the first point after it. Points must come in non-decreasing x.
#pragma once
#include <vector>

namespace advad {

// Streaming form: push the points in order; area() is final once a point
// with x > x_max was pushed or the curve ended at x_max.
class CurveIntegrator {
 public:
  explicit CurveIntegrator(double x_max) : x_max_(x_max) {}
  void push(double x, double y);
  double area() const { return area_ + correction_; }
  bool done() const { return done_; }
  double x_max() const { return x_max_; }

 private:
  double x_max_;
  double area_ = 0.0, correction_ = 0.0;
  double px_ = 0.0, py_ = 0.0;
  bool has_prev_ = false, hit_exactly_ = false, done_ = false;
};

// Vector form. Non-finite points are skipped as the reference does. x_max must
// lie within [x.front(), x.back()].
double trapezoid_area(const std::vector<double>& x, const std::vector<double>& y, double x_max);

}  // namespace advad
