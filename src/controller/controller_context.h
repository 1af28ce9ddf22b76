#pragma once
// controller_context: what the active controller knows of the cluster, loaded from
// ZooKeeper at failover and kept current by the controller's events (Kafka's
// ControllerContext). It is a cache of ZooKeeper plus the controller's own
// bookkeeping (brokers in controlled shutdown, topics being deleted); ZooKeeper
// stays the truth, and a new controller rebuilds all of it.
//
// Threading: owned by the controller and touched only on the controller's event
// thread. No lock. Dropped (reset) when the controller resigns.
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/reassignment.h"
#include "zk/znodes.h"

namespace strata::controller {

struct partition_key {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const partition_key&) const = default;
  bool operator==(const partition_key&) const = default;
};

std::string to_string(const partition_key& k);  // "topic-3"

// A topic as its znode stores it. While a partition moves (KIP-455), `partitions`
// holds its full replica set RS and `adding` / `removing` its AR / RR; partitions not
// moving have no entry there.
struct topic_entry {
  std::string topic_id;  // base64, "" for a v1/v2 topic znode
  zk::replica_map partitions;
  zk::replica_map adding;
  zk::replica_map removing;
};

// A topic whose deletion has begun: UpdateMetadata announces it (leader -2), every
// replica gets StopReplica(delete_partitions=true), and the znodes go once every
// replica has confirmed. `pending` holds the replicas still to confirm.
struct topic_deletion {
  std::set<std::pair<int32_t, int32_t>> pending;  // (partition, broker)
};

// One partition as `strata cluster info` shows it.
struct partition_view {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  int32_t partition_epoch = -1;
  std::vector<int32_t> isr;
  bool online = false;  // the leader is a live broker
  std::vector<int32_t> adding_replicas;    // a reassignment in progress (KIP-455)
  std::vector<int32_t> removing_replicas;
};

struct broker_view {
  int32_t id = -1;
  int64_t broker_epoch = -1;
  std::vector<zk::endpoint> endpoints;
  std::optional<std::string> rack;
  bool shutting_down = false;
};

// A copy of the context for `strata cluster info` and the admin API.
struct controller_snapshot {
  bool active = false;
  int32_t controller_id = -1;  // the cluster's controller as this broker last saw it
  int32_t controller_epoch = 0;
  std::vector<broker_view> brokers;
  std::vector<partition_view> partitions;
  std::vector<std::string> topics_being_deleted;
  int32_t offline_partitions = 0;
};

class controller_context {
 public:
  // ---- brokers
  std::map<int32_t, zk::broker_registration> live_brokers;  // registration, with broker_epoch
  std::set<int32_t> shutting_down;                          // in controlled shutdown

  bool is_live(int32_t id) const { return live_brokers.count(id) && !shutting_down.count(id); }
  bool is_live_or_shutting_down(int32_t id) const { return live_brokers.count(id) > 0; }

  // ---- replicas on failed log directories (KIP-112)
  // Per live broker, its replicas that answered LeaderAndIsr with KAFKA_STORAGE_ERROR
  // (a log dir offline there). Kafka's replicasOnOfflineDirs: they are offline replicas
  // (UpdateMetadata's offline_replicas), never elected, and left out of the ISR. Cleared
  // when the broker registers again or goes.
  std::map<int32_t, std::set<partition_key>> offline_replicas;
  bool replica_offline(int32_t broker, const partition_key& k) const;
  // Whether `broker`'s replica of `k` can serve: live (not shutting down) and not offline.
  bool replica_online(int32_t broker, const partition_key& k) const {
    return is_live(broker) && !replica_offline(broker, k);
  }
  // `ids` without the brokers whose replica of `k` is offline.
  std::vector<int32_t> without_offline(const partition_key& k, std::vector<int32_t> ids) const;
  // Kafka's liveBrokerIds (registered, not shutting down), sorted.
  std::vector<int32_t> live_broker_ids() const;
  std::vector<int32_t> live_or_shutting_down_ids() const;
  int64_t broker_epoch(int32_t id) const;

  // ---- topics and partitions
  std::map<std::string, topic_entry> topics;
  // Partitions with a state znode. A partition of `topics` missing here is new (its
  // initial election has not been written yet: no replica was live, or a controller
  // failed in between).
  std::map<partition_key, zk::leader_and_isr> states;
  std::map<std::string, topic_deletion> deletions;
  // Moving partitions with a data watch on their state znode (this term).
  std::set<partition_key> reassignment_isr_watches;

  const std::vector<int32_t>& replicas(const partition_key& k) const;
  // The partition's replicas with its adding/removing lists (Kafka's
  // partitionFullReplicaAssignment); empty replicas for an unknown partition.
  replica_assignment assignment(const partition_key& k) const;
  // Sets RS, AR and RR of an existing topic's partition (the caller wrote the znode).
  void set_assignment(const partition_key& k, const replica_assignment& a);
  // Partitions whose adding or removing list is non-empty (Kafka's
  // partitionsBeingReassigned), in order.
  std::vector<partition_key> partitions_being_reassigned() const;
  const zk::leader_and_isr* state(const partition_key& k) const;
  bool being_deleted(const std::string& topic) const { return deletions.count(topic) > 0; }
  // Every partition of every topic, in order.
  std::vector<partition_key> all_partitions() const;
  std::vector<partition_key> partitions_of(const std::string& topic) const;
  // Partitions with a replica on `broker`.
  std::vector<partition_key> partitions_on(int32_t broker) const;
  // Not being deleted, and without a live leader (no state yet, leader -1, a leader
  // that is not registered, or whose replica is offline). Kafka's offlinePartitionCount.
  bool is_offline(const partition_key& k) const;
  int32_t offline_partition_count() const;
  // Assigned replicas, in order, that are live (not shutting down) and not offline.
  std::vector<int32_t> live_replicas(const partition_key& k) const;

  void remove_topic(const std::string& topic);
  controller_snapshot snapshot() const;
  void clear() { *this = controller_context{}; }
};

}  // namespace strata::controller
