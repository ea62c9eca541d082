#include "publish/publish_policy.h"

namespace advad {

bool PublishPolicy::wants(std::uint64_t index, std::optional<bool> anomalous) const {
  switch (mode) {
    case Mode::All: return true;
    case Mode::Defects: return anomalous.value_or(false);
    case Mode::EveryN: return index % (n == 0 ? 1 : n) == 0;
  }
  return true;
}

}  // namespace advad
