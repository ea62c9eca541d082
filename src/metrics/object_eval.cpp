#include "metrics/object_eval.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "data/half.h"

namespace advad {

double ObjectResult::seg_f1() const { return has_binary ? seg.f1() : std::numeric_limits<double>::quiet_NaN(); }
double ObjectResult::class_f1() const { return has_binary ? cls.f1() : std::numeric_limits<double>::quiet_NaN(); }

ObjectEvaluator::ObjectEvaluator(std::string object, std::string split, PixelOptions options)
    : object_(std::move(object)), split_(std::move(split)), pixels_(std::move(options)) {}

void ObjectEvaluator::add(const cv::Mat& map, const cv::Mat& gt, const cv::Mat& pred, const std::string& name) {
  pixels_.add(map, gt, name);  // validates sizes and NaN first
  double mx;
  cv::minMaxLoc(map, nullptr, &mx);
  add_common(mx, gt, pred, name);
}

void ObjectEvaluator::add_half(const cv::Mat& bits, const cv::Mat& gt, const cv::Mat& pred, const std::string& name) {
  pixels_.add_half(bits, gt, name);
  uint16_t best = 0;
  for (int y = 0; y < bits.rows; ++y) {
    const uint16_t* s = bits.ptr<uint16_t>(y);
    for (int x = 0; x < bits.cols; ++x) best = std::max(best, half_order_key(s[x]));
  }
  add_common(half_to_float(half_from_order_key(best)), gt, pred, name);
}

void ObjectEvaluator::add_common(double image_score, const cv::Mat& gt, const cv::Mat& pred, const std::string& name) {
  const bool anomalous = !gt.empty() && cv::countNonZero(gt) > 0;
  image_scores_.push_back(image_score);
  image_labels_.push_back(anomalous);
  if (pred.empty()) {
    ++without_pred_;
  } else {
    ++with_pred_;
    binary_.add(pred, gt, name);
  }
  if (with_pred_ && without_pred_)
    throw InputError("binary map missing for some images of " + object_ + "/" + split_ + " (first noticed at " +
                     (name.empty() ? std::string("image ") + std::to_string(image_scores_.size()) : name) +
                     "); give binary maps for all images or for none");
}

ObjectResult ObjectEvaluator::finish() {
  ObjectResult r;
  r.object = object_;
  r.split = split_;
  r.images = image_scores_.size();
  for (bool a : image_labels_) r.anomalous_images += a ? 1 : 0;
  r.pixel = pixels_.finish();
  r.image_auroc = roc_auc(image_scores_, image_labels_);
  r.has_binary = with_pred_ > 0;
  r.seg = binary_.pixels();
  r.cls = binary_.images();
  return r;
}

double mean_over(const std::vector<ObjectResult>& results, double (*metric)(const ObjectResult&)) {
  double sum = 0;
  int n = 0;
  for (const auto& r : results) {
    const double v = metric(r);
    if (std::isnan(v)) continue;
    sum += v;
    ++n;
  }
  return n ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace advad
