#pragma once
// The broker's view of its topics: metadata from the metadata store, the
// effective topic configs, and the partitions with their logs.
//
// The partitions themselves belong to the replica manager (cluster/), which this
// registry asks to create and remove them; every topic change is also published to
// the metadata cache, which Metadata and FindCoordinator answer from. Single node:
// every partition is created led by this broker with replicas = ISR = [self].
//
// Readers (every Produce/Fetch/Metadata) take an immutable snapshot with one
// atomic load; writers (create/delete/alter, rare) serialise on a mutex,
// update the metadata store first (durable), then publish a new snapshot.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/metadata_cache.h"
#include "cluster/metadata_store.h"
#include "cluster/partition.h"
#include "cluster/replica_manager.h"
#include "config/broker_config.h"
#include "config/topic_config.h"
#include "protocol/generated/error_code.h"

namespace strata::storage {
class log_manager;
}

namespace strata::broker {

using cluster::partition;

struct topic_state {
  std::string name;
  protocol::uuid id;
  int16_t replication_factor = 1;
  bool internal = false;
  config::topic_overrides overrides;
  config::topic_config cfg;
  // One entry per partition of the topic; null for a partition this broker holds no
  // replica of (cluster mode).
  std::vector<std::shared_ptr<partition>> partitions;
  // Cluster mode: every partition's replicas (the store's assignment).
  cluster::replica_assignment assignment;

  // The local replica with this index; null when out of range or not held here.
  std::shared_ptr<partition> partition_at(int32_t index) const {
    if (!has_index(index)) return nullptr;
    return partitions[static_cast<size_t>(index)];
  }
  bool has_index(int32_t index) const { return index >= 0 && index < static_cast<int32_t>(partitions.size()); }
};

// Kafka's answer for a partition not held here: UNKNOWN_TOPIC_OR_PARTITION when the
// topic has no such partition, NOT_LEADER_OR_FOLLOWER when another broker holds it.
inline protocol::error_code missing_partition_error(const topic_state* t, int32_t index) {
  return t && t->has_index(index) ? protocol::error_code::not_leader_or_follower
                                  : protocol::error_code::unknown_topic_or_partition;
}

using topic_map = std::map<std::string, std::shared_ptr<const topic_state>, std::less<>>;

struct topic_error {
  protocol::error_code code = protocol::error_code::none;
  std::string message;
  explicit operator bool() const { return code != protocol::error_code::none; }
};

// Kafka's topic name rule: [a-zA-Z0-9._-], 1..249 chars, not "." or "..".
std::optional<std::string> check_topic_name(std::string_view name);

class topic_registry {
 public:
  topic_registry(config::broker_config& cfg, cluster::metadata_store& store, storage::log_manager& logs,
                 cluster::replica_manager& replicas, cluster::metadata_cache& cache);

  // Opens the logs of every topic in the store (startup). Cluster mode: reads the
  // topics only; replicas come with the controller's LeaderAndIsr (ensure_replica).
  void load();
  bool cluster_mode() const { return cluster_mode_; }

  // Cluster mode (the controller's requests). ensure_replica makes sure this broker
  // holds a replica of topic-index (creating its log, without a role; re-reading the
  // topic from the store when it is new here) and returns it; the caller makes it
  // leader or follower. drop_replica forgets it (StopReplica), deleting its log when asked.
  // Both do file work: not on a reactor.
  // `is_new` (LeaderAndIsr's isNew: the partition was just created) false does not
  // create a missing log while a log dir is offline: it may be there (KIP-112), and
  // an empty replica in its place could be elected; the answer is KAFKA_STORAGE_ERROR.
  std::shared_ptr<partition> ensure_replica(const std::string& topic, int32_t index, topic_error& err,
                                            bool is_new = true);
  void drop_replica(const std::string& topic, int32_t index, bool delete_log);
  // Re-reads a topic from the store (created or changed by another broker); null when
  // the store does not have it.
  std::shared_ptr<const topic_state> refresh(const std::string& name);

  std::shared_ptr<const topic_map> snapshot() const { return topics_.load(std::memory_order_acquire); }
  std::shared_ptr<const topic_state> find(std::string_view name) const;
  std::shared_ptr<const topic_state> find(const protocol::uuid& id) const;
  std::shared_ptr<partition> find_partition(std::string_view topic, int32_t index) const;

  // create and add_partitions check max.broker.partitions (validate_only too) before
  // anything is written, and are all or nothing: a failure leaves no log and no
  // metadata behind (KAFKA_STORAGE_ERROR naming the partition and the cause).
  // `manual` (a cluster): the client's replica assignment, used instead of placing
  // the replicas (CreateTopics with assignments; the caller validated it).
  topic_error create(const std::string& name, int32_t partitions, int16_t replication_factor,
                     const config::topic_overrides& overrides, bool validate_only, bool internal = false,
                     const cluster::replica_assignment* manual = nullptr);
  // Also deletes a topic load() left out (its metadata and logs).
  topic_error remove(const std::string& name);
  topic_error add_partitions(const std::string& name, int32_t new_total, bool validate_only);
  // Replaces the topic's overrides (AlterConfigs) and applies them to its logs.
  topic_error set_overrides(const std::string& name, const config::topic_overrides& overrides, bool validate_only);
  // Re-resolves every topic's config after a broker default changed.
  void refresh_configs();
  // Cluster mode: the topic's overrides as ZooKeeper has them now (changed through
  // another broker: a config change notification). Invalid ones are logged and
  // ignored. Returns whether anything changed.
  bool reload_overrides(const std::string& name);

  const config::broker_config& broker_cfg() const { return cfg_; }

  // A log directory failed at run time (KIP-112): on a single node the metadata cache
  // shows this broker as an offline replica of those partitions (Metadata answers
  // KAFKA_STORAGE_ERROR for them); in a cluster the controller's UpdateMetadata does.
  void partitions_went_offline(const std::vector<std::pair<std::string, int32_t>>& parts);

  // Partitions held (every topic's count, offline ones included).
  int64_t partition_count() const;
  // POLICY_VIOLATION naming max.broker.partitions when `more` partitions on top of
  // `have` would pass it.
  topic_error check_broker_limit(int64_t have, int64_t more) const;
  // POLICY_VIOLATION naming strata.create.partitions.max.per.request when one request
  // asks for more new partitions (all its topics together) than it allows.
  topic_error check_request_limit(int64_t requested) const;

 private:
  std::shared_ptr<topic_state> new_state(const cluster::topic_metadata& md) const;
  // Startup: a partition whose log cannot be opened or created is offline.
  std::shared_ptr<topic_state> load_state(const cluster::topic_metadata& md) const;
  // Creates partitions [from, to) of `t`; on a failure removes the ones it created,
  // leaves `t` as it was and says which partition failed and why.
  topic_error create_logs(topic_state& t, int32_t from, int32_t to);
  void drop_logs(const std::string& name, int32_t from, int32_t to);
  // Cluster mode: places `partitions` replicas over the live brokers of the metadata
  // cache (Kafka's rack-aware assignment); an error names the problem.
  topic_error place(int32_t partitions, int16_t replication_factor, cluster::replica_assignment& out) const;
  std::shared_ptr<topic_state> refresh_locked(const std::string& name);
  void publish(std::shared_ptr<const topic_map> m) { topics_.store(std::move(m), std::memory_order_release); }
  // The metadata cache's entry for `t`: each partition's leader, epoch, replicas and ISR
  // as its replica holds them, and this broker as an offline replica of an offline one.
  cluster::topic_info describe(const topic_state& t) const;

  config::broker_config& cfg_;
  cluster::metadata_store& store_;
  storage::log_manager& logs_;
  cluster::replica_manager& replicas_;
  cluster::metadata_cache& cache_;
  const bool cluster_mode_;
  std::mutex write_mu_;
  std::set<std::string, std::less<>> unloaded_;  // in the store, left out by load() (write_mu_)
  std::atomic<std::shared_ptr<const topic_map>> topics_;
};

bool is_internal_topic(std::string_view name);

}  // namespace strata::broker
