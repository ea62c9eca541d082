// libFuzzer target: profile files (core/profile.cpp + core/profile_reader.cpp).
// An input is a .ini; a rejection must be a ProfileError, and a profile that
// loads must be written back by save_profile and read back the same.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "core/backend_registry.h"
#include "core/error.h"
#include "core/profile.h"
#include "core/profile_reader.h"
#include "fuzz_input.h"

namespace {

using namespace advad;

// The method names profiles use. The sanitizer build has no model backends,
// so their names are registered without a factory (never called here).
void register_methods() {
  for (const char* m : {"torchscript", "inpformer", "cpr"})
    if (!find_backend(m)) register_backend(Backend{m, "", false, nullptr});
}

// Every typed reader on every key of a method group (what the backends do).
void read_group(const Profile& p, const std::string& group) {
  const ProfileGroup g = ProfileGroup::of(p, group);
  for (const auto& k : g.keys()) {
    try { g.integer(k, 0, -1000, 1000); } catch (const ProfileError&) {}
    try { g.integer_long(k, 0, 0, 1L << 40); } catch (const ProfileError&) {}
    try { g.number(k, 0.0, 0.0, 1.0, Bound::HighOpen); } catch (const ProfileError&) {}
    try { g.boolean(k, false); } catch (const ProfileError&) {}
    try { g.path(k); } catch (const ProfileError&) {}
    try { g.require(k, "give it"); } catch (const ProfileError&) {}
  }
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Built in place, never default-constructed then assigned (gcc 12 -O3 reports a
// bogus maybe-uninitialized in TilingSpec's default grid otherwise).
std::optional<Profile> load(const std::string& path) {
  try {
    return load_profile(path, /*check_model_file=*/false);
  } catch (const ProfileError&) {
    return std::nullopt;
  }
}

void check_round_trip(const Profile& p) {
  const std::string copy = fuzz::scratch_path("copy.ini");
  save_profile(p, copy);
  const std::optional<Profile> reloaded = load(copy);
  if (!reloaded) fuzz::fail("a loaded profile does not load after save_profile");
  const Profile& q = *reloaded;
  if (q.method != p.method || q.category != p.category || !same(q.threshold, p.threshold) ||
      q.split_names() != p.split_names() || q.input.width != p.input.width || q.input.height != p.input.height ||
      q.tiling.levels.size() != p.tiling.levels.size() || !same(q.tiling.overlap, p.tiling.overlap) ||
      q.method_groups != p.method_groups)
    fuzz::fail("save_profile + load_profile changed the profile");
  for (const auto& s : p.split_names())
    if (!same(q.threshold_for(s), p.threshold_for(s))) fuzz::fail("split threshold changed by a round trip: " + s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool registered = (register_methods(), true);
  (void)registered;
  const std::optional<Profile> loaded = load(fuzz::input_file(data, size, "fuzz.ini"));
  if (!loaded) return 0;
  const Profile& p = *loaded;
  for (const char* g : {"inpformer", "cpr", "train"}) read_group(p, g);
  for (const auto& s : p.split_names()) p.check_split(s);
  check_round_trip(p);
  return 0;
}
