#pragma once
// Which version of each request to send: the highest that both this client
// and the broker support, as librdkafka's and the Java client's
// ApiVersions negotiation does.
#include <cstdint>
#include <optional>

namespace strata::client {

struct version_range {
  int16_t min = 0;
  int16_t max = -1;  // max < min: not supported
  bool empty() const { return max < min; }
};

// What this client can send for an API: the generated codec's range, without
// a latest version Kafka marks unstable, and with a floor for APIs whose old
// versions mean something else (ListOffsets v0 returns offset arrays,
// OffsetFetch v0 reads ZooKeeper offsets, OffsetCommit v0/v1 lack retention
// semantics, Metadata v0 cannot ask for "no auto-creation").
version_range client_versions(int16_t api_key);

// Highest version in both ranges; nullopt when they do not overlap.
std::optional<int16_t> pick_version(version_range ours, version_range theirs);

}  // namespace strata::client
