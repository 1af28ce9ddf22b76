#include <charconv>
#include <stdexcept>
#include <string>

#include "admin/http_server.h"

namespace strata::admin {

http_server_options parse_listener(std::string_view text) {
  auto bad = [&](const char* why) {
    return std::invalid_argument("strata.admin.listener '" + std::string(text) + "': " + why);
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) throw bad("expected host:port");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos) throw bad("an IPv6 host must be in brackets");
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value > 65535)
    throw bad("the port must be a number from 0 to 65535");
  http_server_options o;
  o.host = std::string(host);
  o.port = static_cast<uint16_t>(value);
  return o;
}

}  // namespace strata::admin
