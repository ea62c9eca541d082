// The MVTec AD 2 evaluation server's upload layout: writing it, checking it
// the way the official check_and_prepare_data_for_upload.py does, and packing
// it as <dirname>.tar.gz.
//
//   <dir>/anomaly_images/<object>/test_private/NNN_regular.tiff       float16, 1 channel, 1 page
//   <dir>/anomaly_images/<object>/test_private_mixed/NNN_mixed.tiff
//   <dir>/anomaly_images_thresholded/<object>/<split>/<same stem>.png  8-bit gray, values {0, 255}
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace advad {

using ObjectCounts = std::vector<std::pair<std::string, int>>;  // object -> images per private split

// The 8 objects and their private split sizes (can 321 ... walnuts 228).
const ObjectCounts& mvtec_ad2_private_counts();
// "mini:2,can:321" -> counts; InputError naming the bad item.
ObjectCounts parse_object_counts(const std::string& text);

struct SubmissionCheckOptions {
  ObjectCounts objects = mvtec_ad2_private_counts();
  bool require_thresholded = false;  // VAND 2026 rule; the MVTec checker only warns
  std::string dataset_root;          // when set: maps must have their image's size (not checked by the server script)
};

struct SubmissionReport {
  std::vector<std::string> errors, warnings;
  size_t tiffs = 0, pngs = 0;
  bool ok() const { return errors.empty(); }
};

// Collects every problem (up to a cap per folder) rather than stopping at the first.
SubmissionReport check_submission(const std::string& dir, const SubmissionCheckOptions& options = {});

// Copies the private splits of a predictions folder (advad predict --out,
// same layout, float16 or float32 maps) into `out_dir` as the server wants
// them: maps re-encoded as float16 TIFF, binary maps as 0/255 8-bit PNG.
// Objects not present in `predictions_dir` are an InputError. Returns files written.
size_t write_submission(const std::string& predictions_dir, const std::string& out_dir, const ObjectCounts& objects,
                        bool with_thresholded = true);

// Packs `dir` into `tar_gz` (gzip'd tar, every path starting with <dirname>/).
void pack_submission(const std::string& dir, const std::string& tar_gz);

}  // namespace advad
