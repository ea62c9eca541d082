// Result tables of advad eval: terminal, Markdown, CSV, JSON.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metrics/object_eval.h"

namespace advad {

enum class TableStyle { Terminal, Markdown, Csv };

// One row per object plus a mean row (unweighted over objects, as the server).
// Terminal / Markdown show percentages with 2 decimals; CSV has fractions at
// full precision. Missing values: "n/a" (empty in CSV).
std::string format_table(const std::vector<ObjectResult>& results, TableStyle style);

// {"split", "objects": [{...}], "mean": {...}}; NaN -> null.
nlohmann::json results_to_json(const std::vector<ObjectResult>& results, const std::string& mode);

// The AU-PRO limits of the results, in order (from the first result).
std::vector<double> limits_of(const std::vector<ObjectResult>& results);

// "0.05" for 0.05, "0.3" for 0.3: the shortest text that reads back equal.
std::string limit_text(double limit);

}  // namespace advad
