#pragma once
// Topic administration over the Kafka protocol: Metadata, CreateTopics,
// DeleteTopics, CreatePartitions, DescribeConfigs, IncrementalAlterConfigs and
// DescribeLogDirs, each sent to the broker Kafka's AdminClient sends it to.
// Every function throws client_error naming the topic on failure.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/cluster_client.h"
#include "client/topic_partition.h"

namespace strata::client {

struct partition_description {
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  int16_t error_code = 0;  // e.g. LEADER_NOT_AVAILABLE; reported, not thrown
};

struct topic_description {
  std::string name;
  std::string topic_id;  // base64, empty when the broker sends none
  bool internal = false;
  std::vector<partition_description> partitions;  // by partition index
};

// Topics from Metadata: `names` (throwing for one that does not exist) or,
// with nullopt, every topic. Sorted by name.
std::vector<topic_description> describe_topics(cluster_client& c,
                                               const std::optional<std::vector<std::string>>& names);

struct new_topic {
  std::string name;
  int32_t partitions = -1;          // -1: the broker's num.partitions
  int16_t replication_factor = -1;  // -1: the broker's default.replication.factor
  std::vector<std::pair<std::string, std::string>> configs;
};

// CreateTopics on the controller. Returns false when the topic exists and
// if_not_exists is set.
bool create_topic(cluster_client& c, const new_topic& t, bool if_not_exists);

// DeleteTopics on the controller. Returns false when the topic does not
// exist and if_exists is set.
bool delete_topic(cluster_client& c, const std::string& name, bool if_exists);

// CreatePartitions on the controller: grow the topic to `total` partitions.
void create_partitions(cluster_client& c, const std::string& name, int32_t total);

struct config_entry {
  std::string name;
  std::optional<std::string> value;  // nullopt for sensitive values
  std::string source;                // Kafka's ConfigSource name, e.g. DYNAMIC_TOPIC_CONFIG
  bool is_default = false;           // the built-in default (DEFAULT_CONFIG)
  bool is_override = false;          // set on this topic (DYNAMIC_TOPIC_CONFIG)
  bool read_only = false;
  bool sensitive = false;
};

// DescribeConfigs of a topic, sorted by name.
std::vector<config_entry> describe_topic_configs(cluster_client& c, const std::string& topic);

// One IncrementalAlterConfigs operation: set a value, or (nullopt) delete the
// topic's override so the default applies again.
struct config_change {
  std::string name;
  std::optional<std::string> value;
};
void alter_topic_configs(cluster_client& c, const std::string& topic, const std::vector<config_change>& changes);
// The same on a broker's dynamic configs (the replication throttles), sent to that
// broker as Kafka's AdminClient does.
void alter_broker_configs(cluster_client& c, int32_t broker_id, const std::vector<config_change>& changes);

// DescribeLogDirs on every broker: bytes of each replica of the given
// topics' partitions, by partition and broker id.
std::map<topic_partition, std::map<int32_t, int64_t>> replica_sizes(cluster_client& c,
                                                                    const std::vector<topic_description>& topics);

}  // namespace strata::client
