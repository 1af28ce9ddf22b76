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

// KIP-320's fencing of a request's current_leader_epoch against the partition's: -1
// skips the check; an older epoch is FENCED_LEADER_EPOCH (the client's metadata is
// stale), a newer one UNKNOWN_LEADER_EPOCH (this broker's is).
inline protocol::error_code check_leader_epoch(int32_t current, int32_t partition_epoch) {
  if (current < 0 || current == partition_epoch) return protocol::error_code::none;
  return current < partition_epoch ? protocol::error_code::fenced_leader_epoch
                                   : protocol::error_code::unknown_leader_epoch;
}

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace strata::broker
