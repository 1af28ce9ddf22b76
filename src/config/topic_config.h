#pragma once
// A topic's effective settings: its own overrides (CreateTopics configs,
// AlterConfigs) on top of the broker's defaults, as Kafka's LogConfig does.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/throttled_replicas.h"

namespace strata::config {

class broker_config;

using topic_overrides = std::map<std::string, std::string>;

// Returns an error message naming the key when an override is unknown or
// invalid; nullopt when all are valid.
std::optional<std::string> validate_topic_overrides(const topic_overrides& overrides);

struct topic_config {
  int64_t retention_ms = 604'800'000;
  int64_t retention_bytes = -1;
  int64_t segment_bytes = 1'073'741'824;
  int64_t segment_ms = 604'800'000;
  int64_t segment_index_bytes = 10'485'760;
  int64_t index_interval_bytes = 4096;
  int64_t flush_messages = INT64_MAX;
  int64_t flush_ms = INT64_MAX;
  int32_t max_message_bytes = 1'048'588;
  int32_t min_insync_replicas = 1;
  bool log_append_time = false;
  bool compact = false;
  bool remove_on_retention = true;  // cleanup.policy contains delete
  double min_cleanable_dirty_ratio = 0.5;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = INT64_MAX;
  int64_t delete_retention_ms = 86'400'000;
  std::string compression_type = "producer";
  throttled_replicas leader_throttled_replicas;    // leader.replication.throttled.replicas
  throttled_replicas follower_throttled_replicas;  // follower.replication.throttled.replicas

  // Effective value of a topic setting and whether it came from an override,
  // the broker's static config, or the default (DescribeConfigs' source).
  enum class source { topic, static_broker, default_ };
  struct entry {
    std::string name, value;
    source src;
  };
  std::vector<entry> entries;
};

topic_config resolve_topic_config(const broker_config& broker, const topic_overrides& overrides);

}  // namespace strata::config
