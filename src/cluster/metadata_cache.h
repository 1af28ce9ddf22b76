#pragma once
// The metadata cache (ARCHITECTURE.md §12): what this broker knows of the whole
// cluster, apart from the replicas it holds. Brokers and their endpoints, the
// controller, and every partition's leader, leader epoch, replicas, ISR and offline
// replicas. Metadata, FindCoordinator, DescribeCluster and the admin API answer
// from it; none of them assumes this broker leads anything.
//
// Who writes it: a single node (the local store) publishes itself as the only broker
// and controller and every partition as led here; in ZooKeeper mode, the
// controller's UpdateMetadata requests will.
//
// Threading: readers take an immutable snapshot with one atomic load; writers
// (rare: topic changes, broker changes) serialise on a mutex and publish a new one.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace strata::cluster {

struct broker_endpoint {
  std::string listener;  // the listener name (PLAINTEXT, SSL, ...)
  std::string host;
  int32_t port = 0;
};

struct broker_info {
  int32_t id = -1;
  std::vector<broker_endpoint> endpoints;
  std::optional<std::string> rack;
  // The endpoint on `listener`, the way Kafka answers a client with the endpoints of
  // the listener its request came in on; null when the broker has none there.
  const broker_endpoint* endpoint(const std::string& listener) const;
};

struct partition_info {
  int32_t leader = -1;  // -1: no leader (offline)
  int32_t leader_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
};

struct topic_info {
  std::string name;
  protocol::uuid id;
  bool internal = false;
  std::vector<partition_info> partitions;
};

struct cluster_view {
  std::map<int32_t, broker_info> brokers;
  int32_t controller_id = -1;
  std::map<std::string, std::shared_ptr<const topic_info>, std::less<>> topics;

  const broker_info* broker(int32_t id) const;
  std::shared_ptr<const topic_info> topic(std::string_view name) const;
  // The partition's entry, or null for an unknown topic or partition.
  const partition_info* partition(std::string_view topic, int32_t index) const;
};

class metadata_cache {
 public:
  metadata_cache() : view_(std::make_shared<const cluster_view>()) {}

  std::shared_ptr<const cluster_view> snapshot() const { return view_.load(std::memory_order_acquire); }

  void set_brokers(std::map<int32_t, broker_info> brokers, int32_t controller_id);
  void upsert_topic(topic_info t);
  // UpdateMetadata: replaces the named partitions of a topic (creating it), keeping
  // the others.
  void update_partitions(const std::string& name, const protocol::uuid& id, bool internal,
                         std::map<int32_t, partition_info> parts);
  void remove_topic(const std::string& name);

  // Blocks until `ready(view)` holds for a published view or `deadline` passes; returns
  // whether it held. For requests that answer once the controller's decisions have
  // arrived (CreateTopics waits for its partitions' leaders): not on a reactor.
  bool wait_until(const std::function<bool(const cluster_view&)>& ready,
                  std::chrono::steady_clock::time_point deadline) const;

 private:
  template <class Fn>
  void update(Fn&& fn);

  std::mutex write_mu_;
  mutable std::condition_variable published_;  // with write_mu_
  std::atomic<std::shared_ptr<const cluster_view>> view_;
};

}  // namespace strata::cluster
