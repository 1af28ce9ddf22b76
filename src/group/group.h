#pragma once
// One consumer group's state, as Kafka's classic GroupMetadata keeps it.
//
//   Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
//     ^                  ^                                            |
//     |                  +----- join, leave, expiry -------------------+ leader's SyncGroup
//     +--- last member leaves / expires                               v
//                        +<------ join, leave, expiry ------------ Stable
//   Dead: the group was deleted (or emptied and expired).
//
// Not thread-safe: the coordinator's mutex guards every group.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "group/errc.h"
#include "group/offsets_topic.h"

namespace strata::group {

using clock = std::chrono::steady_clock;

enum class group_state { empty, preparing_rebalance, completing_rebalance, stable, dead };
std::string_view state_name(group_state s);

struct join_result {
  errc error = errc::ok;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    protocol::bytes metadata;
  };
  std::vector<member> members;  // only for the leader
};

struct sync_result {
  errc error = errc::ok;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  protocol::bytes assignment;
};

using join_callback = std::function<void(join_result)>;
using sync_callback = std::function<void(sync_result)>;

struct member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<std::pair<std::string, protocol::bytes>> protocols;  // in preference order
  protocol::bytes assignment;

  join_callback awaiting_join;
  sync_callback awaiting_sync;
  clock::time_point session_deadline;
  bool is_new = false;  // joined during this rebalance; expires after the new-member timeout

  const protocol::bytes* metadata_for(const std::string& protocol) const;
};

struct group {
  std::string id;
  int32_t partition = 0;  // of __consumer_offsets: partition_for(id), set when created
  group_state state = group_state::empty;
  std::string protocol_type;
  std::optional<std::string> protocol_name;
  int32_t generation = 0;
  std::optional<std::string> leader_id;
  std::map<std::string, member> members;
  // KIP-394 ids handed out but not yet used to join, with their expiry.
  std::map<std::string, clock::time_point> pending_members;
  std::map<std::string, std::string> static_members;     // instance id -> member id
  std::map<std::pair<std::string, int32_t>, committed_offset> offsets;
  int64_t state_timestamp_ms = -1;

  // PreparingRebalance: when the join phase ends at the latest.
  std::optional<clock::time_point> rebalance_deadline;
  // Initial rebalance of an empty group: extendable delay (Kafka's InitialDelayedJoin).
  std::optional<clock::time_point> initial_delay_end;
  clock::time_point initial_delay_limit;

  bool has_member(const std::string& id) const { return members.count(id) != 0; }
  bool all_members_joined() const;
  // Whether every member offered `protocol` in its JoinGroup.
  bool every_member_supports(const std::string& protocol) const;
  // The protocol every member supports that most members prefer (Kafka's
  // GroupMetadata.selectProtocol vote).
  std::optional<std::string> select_protocol() const;
  // Whether `protocols` shares a protocol with every current member.
  bool supports_protocols(const std::string& type,
                          const std::vector<std::pair<std::string, protocol::bytes>>& protocols) const;
  int32_t max_rebalance_timeout_ms() const;
  group_record to_record() const;
};

}  // namespace strata::group
