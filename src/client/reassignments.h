#pragma once
// Partition reassignment over the Kafka protocol (KIP-455): AlterPartitionReassignments
// and ListPartitionReassignments, sent to the controller as Kafka's AdminClient does.
// A request-wide error (NOT_CONTROLLER while the controller moves...) is retried until
// the deadline, then thrown as client_error; per-partition errors are returned.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster_client.h"
#include "client/topic_partition.h"

namespace strata::client {

struct reassignment_target {
  topic_partition tp;
  std::optional<std::vector<int32_t>> replicas;  // nullopt cancels the partition's move
};

struct reassignment_outcome {
  topic_partition tp;
  int16_t error_code = 0;
  std::optional<std::string> error_message;
};

// One result per target, in the targets' order.
std::vector<reassignment_outcome> alter_partition_reassignments(cluster_client& c,
                                                                const std::vector<reassignment_target>& targets);

struct ongoing_reassignment {
  topic_partition tp;
  std::vector<int32_t> replicas;
  std::vector<int32_t> adding;
  std::vector<int32_t> removing;
};

// The partitions being reassigned: all (nullopt) or those of `partitions`. Sorted.
std::vector<ongoing_reassignment> list_partition_reassignments(
    cluster_client& c, const std::optional<std::vector<topic_partition>>& partitions);

}  // namespace strata::client
