#include "client/versions.h"

#include <algorithm>

#include "protocol/generated/api_keys.h"

namespace strata::client {

namespace {

int16_t floor_for(int16_t api_key) {
  switch (static_cast<protocol::api_key>(api_key)) {
    case protocol::api_key::list_offsets: return 1;
    case protocol::api_key::offset_fetch: return 1;
    case protocol::api_key::offset_commit: return 2;
    case protocol::api_key::metadata: return 1;
    default: return 0;
  }
}

}  // namespace

version_range client_versions(int16_t api_key) {
  const auto* info = protocol::find_api(api_key);
  if (!info) return {};
  int16_t max = info->max_version;
  if (info->latest_version_unstable && max > info->min_version) --max;
  return {std::max(info->min_version, floor_for(api_key)), max};
}

std::optional<int16_t> pick_version(version_range ours, version_range theirs) {
  if (ours.empty() || theirs.empty()) return std::nullopt;
  const int16_t lo = std::max(ours.min, theirs.min);
  const int16_t hi = std::min(ours.max, theirs.max);
  if (hi < lo) return std::nullopt;
  return hi;
}

}  // namespace strata::client
