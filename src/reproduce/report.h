// <run>/report.md: the per-category table of a reproduce run (test_public
// metrics, the threshold and how it was set) with the seed's published
// figures beside it, the steps' states, failures, and the pictures.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "reproduce/reproduce.h"

namespace advad::reproduce {

struct CategoryReport {
  std::string name, method, dir;
  std::optional<double> threshold;
  long test_public_images = 0;
};

// The seed's published figures (percent), from <profiles>/seed_results.csv;
// NaN where a figure is not given.
struct SeedFigures {
  std::string category;
  double au_pro_private = 0, au_pro_mixed = 0, segf1_private = 0, segf1_mixed = 0;
};
// Empty when the file does not exist; InputError naming the file and line when it is malformed.
std::vector<SeedFigures> read_seed_figures(const std::string& csv);

// Writes report.md and report_metrics.png into options.out; returns the report's path.
std::string write_report(const ReproduceOptions& options, const std::vector<CategoryReport>& categories,
                         const std::vector<StepOutcome>& steps);

}  // namespace advad::reproduce
