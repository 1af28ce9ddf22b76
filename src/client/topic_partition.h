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

// The entry for `topic` in a request's topic list that is filled from
// partitions in topic_partition order: the last entry if it is that topic,
// else a new one.
template <class Topics>
auto& topic_entry(Topics& topics, const std::string& topic) {
  if (topics.empty() || topics.back().name != topic) topics.emplace_back().name = topic;
  return topics.back();
}

}  // namespace strata::client
