// MQTT login from a file, so the password is not on the command line: the
// first line holds "username:password" (the password may contain ':').
#pragma once
#include <string>

namespace advad {

struct Credentials {
  std::string username;
  std::string password;
};

// Throws InputError naming the file when it cannot be read or its first line
// has no "username:" part. The password is never part of a message.
Credentials read_credentials(const std::string& file);

}  // namespace advad
