// CPR training is not available yet (fit of the foreground model, pseudo-anomalies and the
// contrastive training are open work, see docs/STATUS.md). `advad import cpr` builds a
// usable package (bank + codebook) from official weights and training images.
#include <iostream>
#include "tools/subcommands.h"
namespace advad::tools {
int train_cpr_main(int, char**) {
  std::cerr << "advad train: training method cpr is not available yet; build a package from official "
               "weights with `advad import cpr <weights.pth> --train <images> --out <dir>` (docs/STATUS.md)\n";
  return 2;
}
}  // namespace advad::tools
