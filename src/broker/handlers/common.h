#pragma once
// Small helpers shared by handlers.
#include <chrono>
#include <cstdint>

#include <string_view>

#include "protocol/generated/api_keys.h"
#include "protocol/generated/error_code.h"

namespace strata::broker {

inline int16_t ec(protocol::error_code e) { return static_cast<int16_t>(e); }

inline std::string_view api_name(int16_t key) {
  const auto* info = protocol::find_api(key);
  return info ? info->name : std::string_view("Unknown");
}

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace strata::broker
