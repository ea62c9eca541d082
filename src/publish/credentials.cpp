#include "publish/credentials.h"

#include <fstream>

#include "core/error.h"

namespace advad {

Credentials read_credentials(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw InputError("credentials file '" + file + "' cannot be read (missing or no permission)");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();  // written on Windows
  const size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0)
    throw InputError("credentials file '" + file + "': the first line must be username:password");
  return Credentials{line.substr(0, colon), line.substr(colon + 1)};
}

}  // namespace advad
