// The splitmix64 step both trainers' counter-based generators are built on
// (cpr/train/run.cpp: cpr_train_rng seeds an mt19937_64 from it; inpformer
// TrainRng folds its words with it and draws from it). The two generators stay
// different: each reproduces its own method's recorded runs bit for bit.
#pragma once
#include <cstdint>

namespace advad::train {

// Advances x and returns the next output (Steele, Lea, Flood 2014).
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace advad::train
