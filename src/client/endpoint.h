#pragma once
// host:port pairs, as operators write them in --bootstrap-server.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::client {

struct endpoint {
  std::string host;
  uint16_t port = 0;
  // "host:port", with brackets around an IPv6 address.
  std::string to_string() const;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

// Parses "host:port", "[v6addr]:port" or a comma-separated list of them
// (Kafka's bootstrap.servers). Throws client_error naming the bad entry.
std::vector<endpoint> parse_endpoints(std::string_view list);

}  // namespace strata::client
