#pragma once
// Kafka's leader.replication.throttled.replicas / follower.replication.throttled.replicas
// topic settings (KIP-73): the replicas whose replication traffic counts against the
// broker's leader.replication.throttled.rate / follower.replication.throttled.rate.
// The value is "" (none), "*" (every replica of the topic) or a comma-separated list
// of partition:broker pairs, e.g. "0:101,0:102,1:101".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::config {

struct throttled_replicas {
  bool all = false;
  std::vector<std::pair<int32_t, int32_t>> replicas;  // (partition, broker)

  bool contains(int32_t partition, int32_t broker) const;
  bool empty() const { return !all && replicas.empty(); }
};

// nullopt when the value is not "", "*" or a list of partition:broker pairs of
// non-negative integers (blanks around items are allowed, as Kafka trims them).
std::optional<throttled_replicas> parse_throttled_replicas(std::string_view value);

}  // namespace strata::config
