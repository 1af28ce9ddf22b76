#include "client/endpoint.h"

#include <charconv>

#include "client/errors.h"

namespace strata::client {

std::string endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {

endpoint parse_one(std::string_view s) {
  auto bad = [&](const char* why) {
    return client_error("invalid bootstrap server '" + std::string(s) + "': " + why + " (expected host:port)");
  };
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') throw bad("bad IPv6 form");
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) throw bad("no port");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) throw bad("put an IPv6 address in brackets");
  }
  if (host.empty()) throw bad("no host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    throw bad("port must be 1-65535");
  return endpoint{std::string(host), static_cast<uint16_t>(value)};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<endpoint> parse_endpoints(std::string_view list) {
  std::vector<endpoint> out;
  while (true) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (!item.empty()) out.push_back(parse_one(item));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.empty()) throw client_error("no bootstrap server given (expected host:port)");
  return out;
}

}  // namespace strata::client
