// Where a benchmark's --json FILE goes: "-" = standard output, else the file;
// an unwritable file is an InputError naming it (exit 2).
#pragma once
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace advad::tools {

inline void write_json_output(const std::string& file, const nlohmann::json& doc) {
  if (file == "-") {
    std::cout << doc.dump(2) << "\n";
    return;
  }
  std::ofstream f(file);
  if (!(f << doc.dump(2) << "\n")) throw InputError("cannot write '" + file + "'");
}

}  // namespace advad::tools
