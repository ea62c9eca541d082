// PLACEHOLDER: replaced by the real implementation.
#include <iostream>
#include "tools/commands.h"
namespace advad::tools {
int cmd_run(int, char**) {
  std::cerr << "advad: this command is not implemented yet\n";
  return 2;
}
}  // namespace advad::tools
