// The `address` of an MQTT broker: "host:port" ("[v6]:port" for an IPv6
// literal), checked before anything connects.
#pragma once
#include <string>

namespace advad {

struct BrokerAddress {
  std::string host;
  int port = 1883;
  std::string text() const;  // "host:port"
};

// Throws InputError naming the text: no ':port', port not a number in 1..65535, empty host.
BrokerAddress parse_broker_address(const std::string& text);
// Throws InputError naming the host (and the resolver's reason) when it does not resolve.
void check_resolvable(const BrokerAddress& address);

}  // namespace advad
