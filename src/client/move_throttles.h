#pragma once
// Replication throttles for partition moves, as Kafka's kafka-reassign-partitions.sh
// --throttle sets them (KIP-73): each moved partition's current replicas are
// leader-throttled and its new replicas follower-throttled (the topic's
// leader/follower.replication.throttled.replicas), and every broker taking part gets
// leader/follower.replication.throttled.rate. Cleared once the moves are done
// (`strata topic reassign --verify`, `strata cluster rebalance` at the end).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "client/cluster_client.h"
#include "client/topic_partition.h"

namespace strata::client {

struct partition_move_replicas {
  topic_partition tp;
  std::vector<int32_t> from, to;
};

// Sets the throttles for `moves` at `bytes_per_second`; returns the brokers throttled.
// Replaces the topics' throttled-replica lists (as Kafka's tool does).
std::set<int32_t> set_move_throttles(cluster_client& c, const std::vector<partition_move_replicas>& moves,
                                     int64_t bytes_per_second);

// Removes the topics' throttled-replica lists and the brokers' rates.
void clear_move_throttles(cluster_client& c, const std::set<std::string>& topics, const std::set<int32_t>& brokers);

}  // namespace strata::client
