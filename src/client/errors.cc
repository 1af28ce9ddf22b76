#include "client/errors.h"

#include <algorithm>
#include <cctype>

namespace strata::client {

using protocol::error_code;

std::string describe_error(error_code code) {
  // Wording for the errors an operator meets with the admin commands; the
  // rest fall back to Kafka's name in words.
  switch (code) {
    case error_code::unknown_server_error: return "the broker hit an unexpected error";
    case error_code::offset_out_of_range: return "the offset is out of range";
    case error_code::unknown_topic_or_partition: return "the topic or partition does not exist";
    case error_code::leader_not_available: return "the partition has no leader right now";
    case error_code::not_leader_or_follower: return "the broker is not the partition's leader";
    case error_code::request_timed_out: return "the request timed out on the broker";
    case error_code::coordinator_load_in_progress: return "the group coordinator is still loading";
    case error_code::coordinator_not_available: return "the group coordinator is not available";
    case error_code::not_coordinator: return "the broker is not the group's coordinator";
    case error_code::invalid_topic_exception: return "the topic name is not valid";
    case error_code::invalid_group_id: return "the group id is not valid";
    case error_code::unknown_member_id: return "the member is not known to the group";
    case error_code::rebalance_in_progress: return "the group is rebalancing";
    case error_code::topic_authorization_failed: return "not authorized to access the topic";
    case error_code::group_authorization_failed: return "not authorized to access the group";
    case error_code::cluster_authorization_failed: return "not authorized for this cluster operation";
    case error_code::unsupported_version: return "the broker does not support this request version";
    case error_code::topic_already_exists: return "the topic already exists";
    case error_code::invalid_partitions: return "the number of partitions is not valid";
    case error_code::invalid_replication_factor: return "the replication factor is not valid";
    case error_code::invalid_replica_assignment: return "the replica assignment is not valid";
    case error_code::invalid_config: return "the configuration is not valid";
    case error_code::not_controller: return "the broker is not the controller";
    case error_code::invalid_request: return "the broker rejected the request as invalid";
    case error_code::policy_violation: return "the request violates the broker's policy";
    case error_code::kafka_storage_error: return "the broker's log directory is offline";
    case error_code::non_empty_group: return "the group still has members";
    case error_code::group_id_not_found: return "the group does not exist";
    case error_code::topic_deletion_disabled: return "topic deletion is disabled on the broker";
    case error_code::group_subscribed_to_topic: return "the group is still subscribed to the topic";
    case error_code::throttling_quota_exceeded: return "the broker's quota was exceeded";
    case error_code::unknown_topic_id: return "the topic id does not exist";
    default: break;
  }
  std::string s(protocol::error_name(code));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return c == '_' ? ' ' : std::tolower(c); });
  return s;
}

std::string error_text(int16_t code, const std::optional<std::string>& broker_message) {
  auto ec = static_cast<error_code>(code);
  std::string text =
      broker_message && !broker_message->empty() ? *broker_message : describe_error(ec);
  return text + " (" + std::string(protocol::error_name(ec)) + ")";
}

void check(int16_t code, const std::string& context, const std::optional<std::string>& broker_message) {
  if (code == 0) return;
  throw client_error(context + ": " + error_text(code, broker_message), static_cast<error_code>(code));
}

bool is_retriable(error_code code) {
  switch (code) {
    case error_code::leader_not_available:
    case error_code::not_leader_or_follower:
    case error_code::coordinator_load_in_progress:
    case error_code::coordinator_not_available:
    case error_code::not_coordinator:
    case error_code::not_controller:
    case error_code::request_timed_out:
      return true;
    default:
      return false;
  }
}

}  // namespace strata::client
