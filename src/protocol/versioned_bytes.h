#pragma once
// Kafka's version-prefixed blobs: the bytes a group member puts in JoinGroup
// (ConsumerProtocolSubscription), the leader in SyncGroup
// (ConsumerProtocolAssignment), and the broker in `__consumer_offsets` keys and
// values: an int16 version, then the struct at that version.
#include <algorithm>
#include <optional>

#include "protocol/wire.h"

namespace strata::protocol {

// Decodes `b` as a version-prefixed T. A version above T::max_version decodes as
// T::max_version, for blobs whose newer versions only append fields (the consumer
// protocol; Kafka's ConsumerProtocol reads them the same way). nullopt for a version
// below T::min_version or bytes that do not decode.
template <typename T>
std::optional<T> decode_versioned(bytes_view b) {
  reader r(b);
  int16_t version = r.read_int16();
  if (!r.ok() || version < T::min_version) return std::nullopt;
  version = std::min<int16_t>(version, T::max_version);
  T out;
  out.decode(r, version);
  if (!r.ok()) return std::nullopt;
  return out;
}

}  // namespace strata::protocol
