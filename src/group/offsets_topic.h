#pragma once
// The records of `__consumer_offsets`, byte-compatible with Kafka's
// (DESIGN-NOTES §12, shared/kafka-protocol/internal/*.json):
//
//   key   = int16 key_version + key struct
//             version 0/1: OffsetCommitKey  {group, topic, partition}
//             version 2:   GroupMetadataKey {group}
//   value = int16 value_version + value struct, or null (a tombstone)
//             OffsetCommitValue v3: {offset, leader_epoch, metadata, commit_timestamp}
//             GroupMetadataValue v3: {protocol_type, generation, protocol, leader,
//                                     current_state_timestamp, members[...]}
//
// Which partition holds a group: abs(Java String.hashCode(group)) % partitions,
// exactly as Kafka computes it (clients look for the coordinator there).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/wire.h"

namespace strata::group {

int32_t java_string_hash(std::string_view utf8);
int32_t partition_for(std::string_view group, int32_t partitions);

struct committed_offset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;
};

struct member_record {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = -1;
  int32_t session_timeout_ms = 0;
  protocol::bytes subscription;
  protocol::bytes assignment;
};

struct group_record {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp = -1;
  std::vector<member_record> members;
};

// One decoded record of the topic.
struct offset_key {
  std::string group, topic;
  int32_t partition = 0;
};
struct group_key {
  std::string group;
};
struct decoded_record {
  std::variant<offset_key, group_key> key;
  // nullopt: a tombstone.
  std::optional<std::variant<committed_offset, group_record>> value;
};

protocol::bytes encode_offset_key(const std::string& group, const std::string& topic, int32_t partition);
protocol::bytes encode_offset_value(const committed_offset& v);
protocol::bytes encode_group_key(const std::string& group);
protocol::bytes encode_group_value(const group_record& g);

// nullopt for a key or value this code does not understand (an unknown
// version, or bytes that do not decode); the loader skips such records.
std::optional<decoded_record> decode_record(protocol::bytes_view key, std::optional<protocol::bytes_view> value);

}  // namespace strata::group
