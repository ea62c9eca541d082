// The profile a reproduce run uses for one category: the seed's profile from
// models/mvtec_ad2/ with the user's overrides, its relative paths made
// absolute, the model pointing into the run folder and the training data
// into the dataset. The seed's per-split thresholds are dropped: they were
// tuned by hand for the seed's own models against the challenge server, so a
// reproduction sets its threshold from validation images instead.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace advad::reproduce {

// One override, "[METHOD:]GROUP.KEY=VALUE". METHOD (inpformer | cpr) limits
// it to the categories of that method; an empty VALUE removes the key.
struct ProfileOverride {
  std::string method, group, key, value;
  std::string text;  // as given, for messages
};

// ProfileError-free parsing: InputError naming the text and the expected form.
ProfileOverride parse_override(const std::string& text);
// An override file: GKeyFile groups "[GROUP]" or "[METHOD:GROUP]", each key
// an override. InputError naming the file when it does not parse.
std::vector<ProfileOverride> read_override_file(const std::string& path);

// The run profile's text. `model` is the package folder; `data` the category
// folder of the dataset. Every key below whose value is a relative path
// ([train] data, encoder_weights, backbone_weights, defects, init) is resolved
// against the source profile's folder. InputError naming the source file when
// it cannot be read; the caller checks the result with load_profile.
std::string make_run_profile(const std::string& source_ini, const std::vector<ProfileOverride>& overrides,
                             const std::string& model, const std::string& data);

// The text a model package's profile.ini gets: the run profile with
// model = "." and, when given, [threshold] default set to `threshold` and
// [calibration] holding `calibration` (key, value pairs: how it was set).
std::string make_package_profile(const std::string& run_profile_text, std::optional<double> threshold,
                                 const std::vector<std::pair<std::string, std::string>>& calibration = {});

// The run profile without its [threshold] group: what calibration depends on.
std::string without_threshold(const std::string& profile_text);

// The groups that decide what training makes ([profile], [input], the
// method's group, [train]): tiling, thresholds and post-processing left out,
// so changing those does not retrain.
std::string training_part(const std::string& profile_text);

// The [profile] method of a profile text ("" when absent).
std::string method_of(const std::string& profile_text);

// Writes `text` to `path` only when the file's content differs (so its time,
// which later fingerprints see, changes only with its content). Returns true
// when it wrote.
bool write_if_changed(const std::string& path, const std::string& text);

}  // namespace advad::reproduce
