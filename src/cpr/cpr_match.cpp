#include "cpr/cpr_match.h"

#include <limits>

#include "core/error.h"

namespace advad::cpr {

torch::Tensor local_min_distance(const torch::Tensor& query, const torch::Tensor& refs, int region) {
  if (region < 1 || region % 2 == 0)
    throw ModelError("CPR region size " + std::to_string(region) + " must be odd and >= 1");
  TORCH_CHECK(query.dim() == 3 && refs.dim() == 4 && refs.size(1) == query.size(0) && refs.size(2) == query.size(1) &&
                  refs.size(3) == query.size(2),
              "local_min_distance: query [D,H,W] and refs [K,D,H,W] must agree");
  const int64_t H = query.size(1), W = query.size(2);
  const auto r = refs.to(query.scalar_type());
  const auto q = query.unsqueeze(0);  // [1,D,H,W]
  auto best = torch::full({H, W}, std::numeric_limits<float>::infinity(), query.options());
  const int half = region / 2;
  for (int dy = -half; dy <= half; ++dy)
    for (int dx = -half; dx <= half; ++dx) {
      // Query rows y in [y0, y1) read reference rows y + dy (likewise for x).
      const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min<int64_t>(H, H - dy);
      const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min<int64_t>(W, W - dx);
      if (y1 <= y0 || x1 <= x0) continue;
      const auto qs = q.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0);
      const auto rs = r.narrow(2, y0 + dy, y1 - y0).narrow(3, x0 + dx, x1 - x0);
      const auto dist = 1 - (qs * rs).sum(1);  // [K, h, w]
      auto target = best.narrow(0, y0, y1 - y0).narrow(1, x0, x1 - x0);
      target.copy_(torch::minimum(target, std::get<0>(dist.min(0))));
    }
  return best;
}

}  // namespace advad::cpr
