#pragma once
// The follower side of replication (DESIGN-NOTES §7, §8): one replica_fetcher is one
// thread that copies the partitions this broker follows from one source broker (their
// leader) into the local logs. Kafka's AbstractFetcherThread + ReplicaFetcherThread;
// replica_fetcher_manager.h decides which fetcher a partition goes to.
//
// Each partition is in one phase:
//   truncating  just added (or its leader epoch changed): before any fetch, the
//               follower asks OffsetsForLeaderEpoch with its latest epoch and cuts its
//               log where it agrees with the leader's (offset_truncation_state),
//               asking again while the cut is not final. A log without epochs is cut
//               to its high watermark (Kafka's truncateToHighWatermark).
//   fetching    in the next Fetch: offset = our LEO, current_leader_epoch = the
//               partition's, last_fetched_epoch = our latest epoch (v12+), so the
//               leader answers DivergingEpoch when our tail is not its own.
//   failed      a local append or truncation failed (the disk): not fetched again
//               until the partition is added anew (Kafka's markPartitionFailed).
// A partition can also be delayed (replica.fetch.backoff.ms) after an error; it keeps
// its phase and is retried when the delay is over.
//
// What a Fetch response does to a partition (Kafka's processFetchRequest):
//   records             the whole v2 batches at the front are CRC-checked
//                       (records::validate_batches, log mode) and appended as they
//                       came (replica_manager::append_as_follower: the leader's offsets
//                       and epochs kept); a partial batch at the end is cut off. Then
//                       follower HW = follower_high_watermark(leader HW, ...), and the
//                       log start follows the leader's (DeleteRecords, retention).
//   DivergingEpoch      truncate (offset_truncation_state on the answer), fetch again
//   OFFSET_OUT_OF_RANGE ListOffsets latest and earliest at the leader, then
//                       handle_offset_out_of_range: truncate, or restart the log empty
//                       at the leader's log start
//   NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH,
//   UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, KAFKA_STORAGE_ERROR, others
//                       delayed and retried: the controller's next LeaderAndIsr moves
//                       the partition (remove_partitions / add_partitions) if it must
//   corrupt records     delayed and retried (Kafka: a transient state on the leader)
//   local append error  failed, logged once (rate-limited)
// A connection error delays every partition; the next attempt reconnects.
//
// Deviations: full (sessionless) fetches, not KIP-227 incremental sessions: each
// request names every partition, which costs request bytes, not correctness. Fetch v13+
// needs topic ids: partitions added without one are fetched at v12 at most (as Kafka
// does when a topic id is missing).
//
// Threading: the fetcher's thread is the only one that sends requests and the only
// one that writes the followed logs. add_partitions, remove_partitions, fetch_states
// and shutdown may be called from any thread. Two locks:
//   state_mu_    the partition map; held only for bookkeeping, never across I/O;
//   process_mu_  held by the thread while it changes logs (truncation, appends: disk
//                work, no network), and by remove_partitions, which is how removal
//                waits until the thread no longer touches a partition.
// Order: process_mu_ before state_mu_. Requests are sent without either lock, so a
// long poll (replica.fetch.wait.max.ms) never holds up add or remove; a response for a
// partition removed or re-added meanwhile is dropped (each addition has its own
// generation, and the fetch offset must still be the LEO). While it holds process_mu_
// the thread takes the partition's idempotence and log locks (through the replica
// manager): do not call add or remove while holding those. shutdown() interrupts a
// request in flight (connection::interrupt); a connect in progress is not interrupted
// and is bounded by min(replica.socket.timeout.ms, 10 s), Kafka's
// socket.connection.setup.timeout.ms.
//
// Ownership: the fetcher holds each partition by shared_ptr, so a deleted
// partition's object outlives the fetcher's last use of it. It borrows the
// replica_manager, which must outlive it.
//
// Contract with the caller (Kafka's makeFollowers / makeLeaders order): a partition is
// transitioned to follower of this source before it is added, and removed before it
// becomes leader or is deleted.
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/partition.h"
#include "protocol/wire.h"

namespace strata::client {
class broker_connection;
}
namespace strata::protocol::fetch_response_types {
struct partition_data;
}

namespace strata::cluster {

class replica_manager;

// Kafka's replica.* fetcher settings (config/config_def.cc), with their defaults.
struct fetcher_config {
  int32_t broker_id = -1;                       // this broker: the Fetch's replica id
  int32_t fetch_max_bytes = 1 << 20;            // replica.fetch.max.bytes (per partition)
  int32_t fetch_response_max_bytes = 10 << 20;  // replica.fetch.response.max.bytes
  int32_t fetch_wait_max_ms = 500;              // replica.fetch.wait.max.ms
  int32_t fetch_min_bytes = 1;                  // replica.fetch.min.bytes
  int32_t fetch_backoff_ms = 1000;              // replica.fetch.backoff.ms
  int32_t socket_timeout_ms = 30000;            // replica.socket.timeout.ms
  int32_t num_fetchers = 1;                     // num.replica.fetchers (per source broker)
  // KIP-73: whether this broker's replica of a partition is named in its topic's
  // follower.replication.throttled.replicas (a partition move). Such a replica, while
  // out of sync, is left out of fetches whenever replica_manager::follower_quota() is
  // exceeded, and what it fetches counts against it. Empty: nothing is throttled.
  std::function<bool(const partition&)> follower_throttled;
};

// The leader a fetcher copies from.
struct source_broker {
  int32_t id = -1;
  std::string host;
  uint16_t port = 0;
  bool operator==(const source_broker&) const = default;
};

// A partition to follow, with its topic id when known (Fetch v13+ names topics by id).
struct follower_partition {
  std::shared_ptr<partition> p;
  protocol::uuid topic_id;  // zero: unknown
};

using topic_partition = std::pair<std::string, int32_t>;

enum class fetch_phase { truncating, fetching, failed };

// One partition's fetch state, for metrics and tests.
struct partition_fetch_state {
  std::string topic;
  int32_t partition = 0;
  int32_t source_broker = -1;
  fetch_phase phase = fetch_phase::truncating;
  int64_t fetch_offset = -1;           // our LEO: where the next fetch starts
  int64_t leader_high_watermark = -1;  // from the last response; -1 before the first
  int64_t leader_log_start_offset = -1;
  int64_t lag = -1;        // max(0, leader HW - our LEO); -1 before the first response
  bool delayed = false;    // backing off after an error
  int16_t last_error = 0;  // the Kafka code of the last error (0: none)
};

class replica_fetcher {
 public:
  // Starts the thread. `fetcher_id` tells fetchers of one source apart in logs.
  replica_fetcher(replica_manager& rm, const fetcher_config& cfg, source_broker source, int fetcher_id);
  // shutdown().
  ~replica_fetcher();
  replica_fetcher(const replica_fetcher&) = delete;
  replica_fetcher& operator=(const replica_fetcher&) = delete;

  const source_broker& source() const { return source_; }

  // Adds partitions, or replaces their state when already here: each starts truncating.
  // Offline partitions start failed.
  void add_partitions(const std::vector<follower_partition>& parts);
  // Interrupts a request in flight far past a long poll (see request_sent_ms_).
  void interrupt_stale_fetch();
  // Stops fetching them. Returns once the thread no longer touches them: a truncation
  // or append in progress finishes first; a response that comes later is dropped.
  // Returns what was removed (to move partitions to another fetcher).
  std::vector<follower_partition> remove_partitions(const std::vector<topic_partition>& tps);
  std::vector<follower_partition> remove_all();
  size_t partition_count() const;
  std::vector<partition_fetch_state> fetch_states() const;

  // Stops the thread (an exchange in progress is interrupted) and joins it. Idempotent.
  void shutdown();

 private:
  struct entry;
  struct ready_partition;

  void run();
  // Waits until a partition is ready (not failed, not delayed) or the fetcher stops.
  bool wait_for_work();
  bool ensure_connected();
  void drop_connection();
  void truncate_phase();
  void fetch_phase_once();
  void process_partition_data(entry& e, const ready_partition& rp, protocol::fetch_response_types::partition_data& pd,
                              std::vector<uint8_t>& frame);
  void handle_out_of_range(const std::vector<ready_partition>& parts);
  // ListOffsets at the leader: (error, offset) per partition.
  std::map<topic_partition, std::pair<int16_t, int64_t>> list_offsets(const std::vector<ready_partition>& parts,
                                                                      int64_t timestamp);
  // A partition that erred: delayed by the backoff, with the error kept for metrics.
  // Callers hold state_mu_.
  void delay_locked(entry& e, int16_t error);
  void delay_all(int16_t error);
  // state_mu_ held. The entry for `tp` when it is still the `generation` a request was
  // built for; null otherwise.
  entry* current_locked(const topic_partition& tp, uint64_t generation);
  void fail_locked(entry& e, const std::string& what, std::error_code ec);

  replica_manager& rm_;
  const fetcher_config cfg_;
  const source_broker source_;
  const int fetcher_id_;

  std::mutex process_mu_;
  mutable std::mutex state_mu_;
  std::condition_variable cv_;  // state_mu_: partitions added, shutdown
  std::map<topic_partition, entry> parts_;
  uint64_t next_generation_ = 1;
  uint64_t round_ = 0;  // rotates the order of partitions in a Fetch
  bool stopping_ = false;

  std::vector<uint8_t> frame_;  // the thread's: the buffer every Fetch response is read into

  std::mutex conn_mu_;  // guards conn_ against interrupt(); only the thread writes it
  // When the request in flight (Fetch, OffsetsForLeaderEpoch, ListOffsets) was sent
  // (steady clock, ms; 0: none). A request far past a long poll when the controller
  // hands this fetcher partitions again is on a connection that went dead (a healed
  // network partition: the leader's answer was dropped), so add_partitions interrupts
  // it and the thread reconnects at once instead of waiting out
  // replica.socket.timeout.ms.
  std::atomic<int64_t> request_sent_ms_{0};
  std::unique_ptr<client::broker_connection> conn_;
  bool reconnecting_ = false;  // the thread's: a connection was lost (logs the recovery)

  std::mutex join_mu_;
  std::thread thread_;
};

}  // namespace strata::cluster
