// advad::Error: the one exception type of libadvad's public API. Every failure
// a caller can fix (missing profile, bad key, frame that does not fit the
// tiling) is thrown as an advad::Error or a class derived from it; what()
// names the file / key / value at fault. The library's own code derives its
// internal error classes from this one, so nothing is re-wrapped on the way out.
#pragma once
#include <stdexcept>
#include <string>

namespace advad {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace advad
