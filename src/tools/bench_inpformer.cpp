// PLACEHOLDER: replaced by the real implementation.
#include <iostream>
#include "tools/subcommands.h"
namespace advad::tools {
int bench_inpformer_main(int, char**) {
  std::cerr << "advad: this command is not implemented yet\n";
  return 2;
}
}  // namespace advad::tools
