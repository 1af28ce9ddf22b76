#pragma once
// Which replica_fetcher copies which followed partition (Kafka's AbstractFetcherManager
// and ReplicaFetcherManager): num.replica.fetchers fetchers per source broker, a
// partition always on the same one of them (a hash of topic and partition, as Kafka's
// getFetcherId). Fetchers are created on demand and shut down once they have nothing
// left to fetch.
//
// The broker calls it from its LeaderAndIsr path, in Kafka's order:
//   become follower of leader L: replica_manager::become_follower, then add_partitions(L, ...)
//   become leader, StopReplica, deletion: remove_partitions first, then the transition
//   or the removal of the files.
// A partition added under a new source leaves its old fetcher first; a source whose
// host or port changed gets a new fetcher (the old one's partitions move to it).
//
// Threading: every method is thread-safe and serialised by one mutex, held while
// fetchers start and stop (a stopping fetcher's exchange is interrupted, so that is
// short). fetch_states() takes it too: scrape it, do not call it per request.
//
// Ownership: owns its fetchers; borrows the replica_manager, which must outlive it.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "cluster/replica_fetcher.h"

namespace strata::cluster {

class replica_fetcher_manager {
 public:
  replica_fetcher_manager(replica_manager& rm, fetcher_config cfg);
  // shutdown().
  ~replica_fetcher_manager();
  replica_fetcher_manager(const replica_fetcher_manager&) = delete;
  replica_fetcher_manager& operator=(const replica_fetcher_manager&) = delete;

  // Starts following `parts` (already followers of `source` in the replica manager).
  // Each starts with truncation. Ignored after shutdown().
  void add_partitions(const source_broker& source, const std::vector<follower_partition>& parts);
  // The same without topic ids (fetched with Fetch v12 at most).
  void add_partitions(const source_broker& source, const std::vector<std::shared_ptr<partition>>& parts);
  // Stops fetching them; returns once no fetcher touches them any more.
  void remove_partitions(const std::vector<topic_partition>& tps);
  // Stops and joins every fetcher.
  void shutdown();

  // Every followed partition's fetch state (metrics: lag = leader HW - our LEO).
  std::vector<partition_fetch_state> fetch_states() const;
  size_t fetcher_count() const;

 private:
  using fetcher_key = std::pair<int32_t, int>;  // source broker id, fetcher id
  int fetcher_id_for(const std::string& topic, int32_t partition) const;
  void remove_locked(const std::vector<topic_partition>& tps);
  void shutdown_idle_locked();

  replica_manager& rm_;
  const fetcher_config cfg_;
  mutable std::mutex mu_;
  std::map<fetcher_key, std::unique_ptr<replica_fetcher>> fetchers_;
  bool shut_down_ = false;
};

}  // namespace strata::cluster
