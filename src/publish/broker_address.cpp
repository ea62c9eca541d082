#include "publish/broker_address.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cctype>

#include "core/error.h"

namespace advad {

std::string BrokerAddress::text() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

BrokerAddress parse_broker_address(const std::string& text) {
  const auto bad = [&](const std::string& why) -> BrokerAddress {
    throw InputError("broker address '" + text + "' " + why + "; expected host:port, e.g. 127.0.0.1:1883");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("has no port");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return bad("has no host");
  if (port.empty() || port.size() > 5) return bad("has no valid port");
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad("has a port that is not a number");
  const int p = std::stoi(port);
  if (p < 1 || p > 65535) return bad("has a port outside 1..65535");
  return BrokerAddress{host, p};
}

void check_resolvable(const BrokerAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(address.host.c_str(), nullptr, &hints, &found);
  if (found) freeaddrinfo(found);
  if (rc != 0)
    throw InputError("broker host '" + address.host + "' does not resolve (" + gai_strerror(rc) + ")");
}

}  // namespace advad
