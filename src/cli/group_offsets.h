#pragma once
// Shared by `strata group describe` and `strata group reset-offsets`: the
// rows of a group's per-partition offsets.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "client/cluster_client.h"
#include "client/groups.h"
#include "client/topic_partition.h"

namespace strata::cli {

struct partition_offsets {
  std::optional<int64_t> committed;
  std::optional<int64_t> log_end;  // nullopt when the partition no longer exists
  const client::group_member* member = nullptr;  // the member assigned the partition, if any
  std::optional<int64_t> lag() const {
    if (!committed || !log_end) return std::nullopt;
    return std::max<int64_t>(0, *log_end - *committed);
  }
};

// Every partition the group has a committed offset for or a member is
// assigned, with the log-end offsets from the partition leaders. Partitions
// of topics deleted since the commit get no log-end offset instead of an
// error.
std::map<client::topic_partition, partition_offsets> group_partition_offsets(client::cluster_client& c,
                                                                             const client::group_description& g);

// The partitions of `topics` that exist, by topic; throws client_error for a
// topic that does not.
std::set<client::topic_partition> partitions_of(client::cluster_client& c, const std::set<std::string>& topics);

}  // namespace strata::cli
