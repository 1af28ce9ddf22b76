#pragma once
#include <compare>
#include <cstdint>
#include <string>

namespace strata::client {

// A partition of a topic; ordered by topic, then partition (the order the
// commands print them in).
struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const topic_partition&, const topic_partition&) = default;
  friend bool operator==(const topic_partition&, const topic_partition&) = default;
};

}  // namespace strata::client
