// Error types of libadvad. Every user-facing failure is an advad::Error whose
// message names the file / key / value at fault and what to do about it.
#pragma once
#include <string>

// advad::Error, the base of all errors the user can fix (bad input, missing
// file, bad value), is public: library users catch it (include/advad/error.h).
#include "advad/error.h"

namespace advad {

// A profile (.ini) is malformed: unknown group/key, bad value, missing file.
class ProfileError : public Error {
 public:
  using Error::Error;
};

// A model file or package is missing, corrupt, or does not fit the model.
class ModelError : public Error {
 public:
  using Error::Error;
};

// A model produced maps of the wrong number or shape for its tiles.
class MapShapeError : public ModelError {
 public:
  using ModelError::ModelError;
};

// Input data (image, dataset folder, frame format) cannot be used.
class InputError : public Error {
 public:
  using Error::Error;
};

}  // namespace advad
