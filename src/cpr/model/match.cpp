#include "cpr/model/match.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"

// The channel sums are plain loops over x that the compiler vectorises; on
// x86-64 Linux (GCC) they are also built for AVX2/FMA and AVX-512 and picked
// at run time by the processor.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define ADVAD_MATCH_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ADVAD_MATCH_CLONES
#endif

namespace advad::cpr {
namespace {

constexpr int64_t kRows = 4;  // query rows per block (the unit of work of a thread)
constexpr int64_t kChan = 8;  // channels summed per pass over the accumulators

// acc: [(2h+1)^2][rows][W]. Adds, for the query rows [y0, y0+rows) and every
// offset (dy,dx) in [-h,h]^2, sum over the D channels of
// q(c,y,x) * ref(c,y+dy,x+dx) where the neighbour lies inside the map; the
// other entries are left as they are (fold_block skips them).
ADVAD_MATCH_CLONES
void accumulate_block(float* __restrict acc, const float* __restrict q, const float* __restrict ref, int64_t D,
                      int64_t H, int64_t W, int half, int64_t y0, int64_t rows) {
  const int64_t P = H * W;  // channel plane
  const int side = 2 * half + 1;
  for (int64_t c = 0; c < D; c += kChan) {
    const int64_t nc = std::min(kChan, D - c);
    for (int64_t r = 0; r < rows; ++r) {
      const float* qr = q + c * P + (y0 + r) * W;
      for (int dy = -half; dy <= half; ++dy) {
        const int64_t yy = y0 + r + dy;
        if (yy < 0 || yy >= H) continue;
        const float* rr = ref + c * P + yy * W;
        for (int dx = -half; dx <= half; ++dx) {
          const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min<int64_t>(W, W - dx);
          float* a = acc + (static_cast<int64_t>((dy + half) * side + (dx + half)) * rows + r) * W;
          if (nc == kChan) {
            for (int64_t x = x0; x < x1; ++x) {
              const int64_t s = x + dx;
              a[x] += ((qr[x] * rr[s] + qr[P + x] * rr[P + s]) + (qr[2 * P + x] * rr[2 * P + s] + qr[3 * P + x] * rr[3 * P + s])) +
                      ((qr[4 * P + x] * rr[4 * P + s] + qr[5 * P + x] * rr[5 * P + s]) +
                       (qr[6 * P + x] * rr[6 * P + s] + qr[7 * P + x] * rr[7 * P + s]));
            }
          } else {
            for (int64_t j = 0; j < nc; ++j)
              for (int64_t x = x0; x < x1; ++x) a[x] += qr[j * P + x] * rr[j * P + x + dx];
          }
        }
      }
    }
  }
}

// best(y,x) = min(best(y,x), 1 - max over the valid offsets of acc); NaN propagates.
void fold_block(float* best, const float* acc, int64_t H, int64_t W, int half, int64_t y0, int64_t rows) {
  const int side = 2 * half + 1;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t y = y0 + r;
    for (int64_t x = 0; x < W; ++x) {
      float m = -std::numeric_limits<float>::infinity();
      for (int dy = -half; dy <= half; ++dy) {
        if (y + dy < 0 || y + dy >= H) continue;
        for (int dx = -half; dx <= half; ++dx) {
          if (x + dx < 0 || x + dx >= W) continue;
          const float v = acc[(static_cast<int64_t>((dy + half) * side + (dx + half)) * rows + r) * W + x];
          if (v > m || std::isnan(v)) m = v;
          if (std::isnan(m)) break;
        }
      }
      const float d = 1.0f - m;
      float& b = best[y * W + x];
      if (d < b || std::isnan(d)) b = d;
    }
  }
}

void check_args(const torch::Tensor& query, const torch::Tensor& features, const std::vector<int64_t>& indices,
                int region) {
  if (region < 1 || region % 2 == 0)
    throw ModelError("CPR region size " + std::to_string(region) + " must be odd and >= 1");
  TORCH_CHECK(query.dim() == 3 && features.dim() == 4 && features.size(1) == query.size(0) &&
                  features.size(2) == query.size(1) && features.size(3) == query.size(2),
              "local_min_distance: query [D,H,W] and refs [K,D,H,W] must agree");
  TORCH_CHECK(query.device() == features.device(), "local_min_distance: query and features on different devices");
  if (indices.empty()) throw ModelError("CPR matching: no retrieved training image to compare with");
  for (int64_t i : indices)
    if (i < 0 || i >= features.size(0))
      throw ModelError("CPR matching: bank entry " + std::to_string(i) + " is outside the bank of " +
                       std::to_string(features.size(0)));
}

torch::Tensor match_cpu(const torch::Tensor& query, const torch::Tensor& features, const std::vector<int64_t>& indices,
                        int half) {
  const auto q = query.to(torch::kFloat).contiguous();
  const int64_t D = q.size(0), H = q.size(1), W = q.size(2), image = D * H * W;
  auto best = torch::full({H, W}, std::numeric_limits<float>::infinity(), q.options());
  if (H == 0 || W == 0) return best;
  // A contiguous float32 bank is read in place; anything else (fp16) is
  // converted one retrieved image at a time.
  const bool in_place = features.scalar_type() == torch::kFloat && features.is_contiguous();
  torch::Tensor scratch;
  if (!in_place) scratch = torch::empty({D, H, W}, q.options());
  const int side = 2 * half + 1;
  const int64_t blocks = (H + kRows - 1) / kRows, acc_size = side * side * kRows * W;
  std::vector<std::vector<float>> acc(static_cast<size_t>(std::max(1, at::get_num_threads())));
  const float* qp = q.data_ptr<float>();
  float* bp = best.data_ptr<float>();
  for (int64_t k : indices) {
    const float* ref;
    if (in_place) {
      ref = features.data_ptr<float>() + k * image;
    } else {
      scratch.copy_(features[k]);
      ref = scratch.data_ptr<float>();
    }
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      auto& buf = acc[std::min<size_t>(static_cast<size_t>(std::max(0, at::get_thread_num())), acc.size() - 1)];
      buf.resize(static_cast<size_t>(acc_size));
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t y0 = b * kRows, rows = std::min(kRows, H - y0);
        std::fill(buf.begin(), buf.end(), 0.0f);
        accumulate_block(buf.data(), qp, ref, D, H, W, half, y0, rows);
        fold_block(bp, buf.data(), H, W, half, y0, rows);
      }
    });
  }
  return best;
}

}  // namespace

namespace detail {

torch::Tensor local_min_distance_tensor_ops(const torch::Tensor& query, const torch::Tensor& features,
                                            const std::vector<int64_t>& indices, int region) {
  check_args(query, features, indices, region);
  const int64_t H = query.size(1), W = query.size(2);
  const auto q = query.to(torch::kFloat);
  auto best = torch::full({H, W}, std::numeric_limits<float>::infinity(), q.options());
  const int half = region / 2;
  for (int64_t k : indices) {
    const auto r = features[k].to(torch::kFloat);  // [D,H,W]: one image at a time
    for (int dy = -half; dy <= half; ++dy)
      for (int dx = -half; dx <= half; ++dx) {
        // Query rows y in [y0, y1) read reference rows y + dy (likewise for x).
        const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min<int64_t>(H, H - dy);
        const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min<int64_t>(W, W - dx);
        if (y1 <= y0 || x1 <= x0) continue;
        const auto qs = q.narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0);
        const auto rs = r.narrow(1, y0 + dy, y1 - y0).narrow(2, x0 + dx, x1 - x0);
        auto target = best.narrow(0, y0, y1 - y0).narrow(1, x0, x1 - x0);
        target.copy_(torch::minimum(target, 1 - (qs * rs).sum(0)));
      }
  }
  return best;
}

}  // namespace detail

torch::Tensor local_min_distance(const torch::Tensor& query, const torch::Tensor& features,
                                 const std::vector<int64_t>& indices, int region) {
  check_args(query, features, indices, region);
  if (!features.device().is_cpu()) return detail::local_min_distance_tensor_ops(query, features, indices, region);
  return match_cpu(query, features, indices, region / 2);
}

torch::Tensor local_min_distance(const torch::Tensor& query, const torch::Tensor& refs, int region) {
  std::vector<int64_t> all(static_cast<size_t>(refs.dim() > 0 ? refs.size(0) : 0));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  return local_min_distance(query, refs, all, region);
}

}  // namespace advad::cpr
