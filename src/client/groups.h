#pragma once
// Consumer-group administration over the Kafka protocol: ListGroups (every
// broker), and DescribeGroups, OffsetFetch, OffsetCommit and DeleteGroups at
// the group's coordinator. Throws client_error naming the group on failure.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster_client.h"
#include "client/topic_partition.h"

namespace strata::client {

struct group_listing {
  std::string group_id;
  std::string protocol_type;  // "consumer" for consumer groups, "" for offset-only groups
  std::string state;          // empty when the broker's ListGroups version has no state
  int32_t coordinator = -1;
};

// Every group of every broker, sorted by id.
std::vector<group_listing> list_groups(cluster_client& c);

struct group_member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::vector<topic_partition> assignment;  // decoded when protocol_type is "consumer"
};

struct group_description {
  std::string group_id;
  std::string state;          // Kafka's names: Empty, Stable, PreparingRebalance, ..., Dead
  std::string protocol_type;  // "consumer", ...
  std::string protocol;       // the chosen assignor, e.g. "range"
  int32_t coordinator = -1;
  std::vector<group_member> members;
};

// DescribeGroups. A group that does not exist comes back in state "Dead", as
// Kafka reports it.
group_description describe_group(cluster_client& c, const std::string& group_id);

// The group's committed offsets (OffsetFetch for every topic).
std::map<topic_partition, int64_t> committed_offsets(cluster_client& c, const std::string& group_id);

// OffsetCommit as a client outside the group (generation -1, no member id),
// which the coordinator accepts only while the group has no members.
void commit_offsets(cluster_client& c, const std::string& group_id, const std::map<topic_partition, int64_t>& offsets);

// DeleteGroups.
void delete_group(cluster_client& c, const std::string& group_id);

}  // namespace strata::client
