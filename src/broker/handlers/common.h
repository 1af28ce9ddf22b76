#pragma once
// Small helpers shared by handlers.
#include <chrono>
#include <cstdint>

#include <string_view>

#include "cluster/metadata_cache.h"
#include "protocol/generated/api_keys.h"
#include "protocol/generated/error_code.h"

namespace strata::broker {

inline int16_t ec(protocol::error_code e) { return static_cast<int16_t>(e); }

inline std::string_view api_name(int16_t key) {
  const auto* info = protocol::find_api(key);
  return info ? info->name : std::string_view("Unknown");
}

// Where a client reaches `info`: its endpoint on the listener the request came in
// on, as Kafka answers (an SSL client is sent to SSL ports). A broker without that
// listener falls back to its first endpoint, so a listener missing from
// advertised.listeners still gets an answer; null when it has none.
inline const cluster::broker_endpoint* endpoint_for(const cluster::broker_info& info, const std::string& listener) {
  if (const auto* ep = info.endpoint(listener)) return ep;
  return info.endpoints.empty() ? nullptr : &info.endpoints.front();
}

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace strata::broker
