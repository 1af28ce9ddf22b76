#pragma once
// ListOffsets, sent to each partition's leader.
#include <cstdint>
#include <map>

#include "client/cluster_client.h"
#include "client/topic_partition.h"

namespace strata::client {

// Kafka's special ListOffsets timestamps.
constexpr int64_t latest_timestamp = -1;
constexpr int64_t earliest_timestamp = -2;

// For each partition, the offset for its timestamp: latest_timestamp gives the
// log-end offset (high watermark), earliest_timestamp the log-start offset,
// and a time in ms the first offset whose timestamp is at or after it, or -1
// when there is none (Kafka's answer). Throws client_error naming the
// partition on an error that retrying does not cure.
std::map<topic_partition, int64_t> list_offsets(cluster_client& c, const std::map<topic_partition, int64_t>& timestamps);

}  // namespace strata::client
