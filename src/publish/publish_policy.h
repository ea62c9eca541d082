// Which frames advadpublish sends: every frame, only defect frames, or every
// N-th frame it sees.
#pragma once
#include <cstdint>
#include <optional>

namespace advad {

struct PublishPolicy {
  enum class Mode { Defects, All, EveryN };
  Mode mode = Mode::All;
  std::uint64_t n = 10;  // EveryN: frames 0, n, 2n, ... of the element's own count (n >= 1)

  // `index`: the element's own count of frames, from 0. `anomalous`: the
  // frame's verdict, absent when it has none (unscored, no post-processing):
  // such a frame is not a defect.
  bool wants(std::uint64_t index, std::optional<bool> anomalous) const;
};

}  // namespace advad
