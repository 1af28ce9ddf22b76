#pragma once
// The replica manager (ARCHITECTURE.md §12, Kafka's ReplicaManager): owns this
// broker's partitions and is the only path into their logs.
//   - append as leader (a client's Produce, the group coordinator's commits):
//     leadership and min.insync.replicas checks, idempotent-producer checks, the
//     append stamped with the leader epoch;
//   - append as follower (replication): the leader's offsets and epochs kept,
//     producer state updated;
//   - read for a consumer (to the high watermark) or a follower (to the log end),
//     after the leader-epoch fencing of KIP-320;
//   - become leader / become follower, and truncation.
// Handlers decode and validate the request's bytes, call in here, and map the
// std::error_code they get (storage::errc, cluster::errc) to a Kafka code with
// broker/error_mapping.h.
//
// Ownership: partitions are created and removed here (the topic registry asks) and
// shared with whoever reads them (a topic snapshot, a parked fetch), which keeps a
// deleted partition's object alive until its last reader lets go.
//
// Threading: every method is thread-safe. Appends and reads run on the reactors;
// add/remove and the transitions run wherever topics change (the broker's worker,
// startup). Nothing here blocks on the disk beyond the log's append lock, except
// truncation and remove (file work: not on a reactor).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "cluster/errc.h"
#include "cluster/follower_truncation.h"
#include "cluster/partition.h"
#include "cluster/replication_quota.h"
#include "storage/errc.h"
#include "storage/read_result.h"

namespace strata::cluster {

struct leader_append {
  std::span<uint8_t> batches;  // validated v2 batches; offsets and epochs are stamped in place
  batch_identity first;        // the first batch's producer identity; producer_id < 0: not idempotent
  int16_t required_acks = 1;   // -1: refused before the append when the ISR is below min_insync_replicas
  int32_t min_insync_replicas = 1;
  int64_t now_ms = 0;
};

struct appended {
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_start_offset = -1;
  bool duplicate = false;  // an idempotent retry answered from producer state: nothing was appended
};

// Who reads, and so how far (DESIGN-NOTES §4).
enum class reader { consumer, follower };

struct read_request {
  int64_t offset = 0;
  int32_t max_bytes = 0;
  bool min_one_batch = false;  // Kafka's "at least one batch" for the first partition with data
  reader who = reader::consumer;
  int32_t current_leader_epoch = -1;  // KIP-320; -1 skips the check
  // Followers only: who fetches, its log start offset, and the epoch of the last
  // batch it has (Fetch v12+; -1: no diverging-epoch check).
  int32_t replica_id = -1;
  int64_t follower_log_start_offset = -1;
  int32_t last_fetched_epoch = -1;
  int64_t now_ms = 0;
};

struct partition_read {
  storage::read_result data;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  int64_t log_end_offset = -1;
  // A follower whose log diverges from the leader's (DESIGN-NOTES §7): truncate to
  // this and fetch again; no records come with it.
  std::optional<epoch_end_offset> diverging;
};

// How the leader asks for an ISR change (expand on a caught-up fetch, shrink from
// the lag task): the broker commits `proposed` in the metadata store (ZooKeeper: a
// conditional write of the state znode, DESIGN-NOTES §9) and reports back with
// isr_committed or isr_change_failed. Only one change is in flight per partition.
using isr_change_fn = std::function<void(const std::shared_ptr<partition>& p, const partition_state& proposed)>;

// acks=all progress of one append (DESIGN-NOTES §10).
// offline: the partition's log went offline (KIP-112) before the batch was replicated:
// it is never acknowledged (KAFKA_STORAGE_ERROR).
enum class replication_status { done, waiting, not_enough_replicas_after_append, offline };

class replica_manager {
 public:
  explicit replica_manager(int32_t local_broker_id) : local_id_(local_broker_id) {}

  int32_t local_broker_id() const { return local_id_; }

  // replica.lag.time.max.ms: a follower that has not caught up for this long leaves the ISR.
  void set_replica_lag_time_max_ms(int64_t ms) { lag_max_ms_ = ms; }
  // Without a handler (a single node) the ISR never changes.
  void set_isr_change_handler(isr_change_fn fn);
  // Whether a broker may join an ISR (ZooKeeper mode: it is registered). Default: all.
  void set_broker_alive_fn(std::function<bool(int32_t)> fn);

  // Takes over an opened log as a local replica in `state` (leader when state.leader
  // is this broker, follower when it is another, none without a leader).
  std::shared_ptr<partition> add(const std::string& topic, int32_t index, std::shared_ptr<storage::log> log,
                                 const partition_state& state);
  // A replica whose log could not be opened (KIP-112).
  std::shared_ptr<partition> add_offline(const std::string& topic, int32_t index, std::string reason,
                                         const partition_state& state);
  // Forgets a replica (topic deleted, StopReplica) and wakes what waits on it. The
  // caller deletes its files.
  void remove(const std::string& topic, int32_t index);
  std::shared_ptr<partition> get(const std::string& topic, int32_t index) const;
  size_t size() const;

  // A single node's state for a partition: this broker leads, replicas = ISR = [self].
  partition_state single_node_state() const;

  // Leadership transitions (LeaderAndIsr). Stale epochs are refused with
  // errc::fenced_leader_epoch. Becoming leader records (epoch, LEO) in the
  // leader-epoch cache before anything is written (Kafka's makeLeader).
  std::error_code become_leader(partition& p, const partition_state& state);
  std::error_code become_follower(partition& p, const partition_state& state);
  // Cuts the log to `offset` (follower truncation, DESIGN-NOTES §7) and forgets the
  // producer state, which is rebuilt from the log on the next idempotent append.
  std::error_code truncate_to(partition& p, int64_t offset);

  storage::result<appended> append_as_leader(partition& p, const leader_append& a);
  storage::result<appended> append_as_follower(partition& p, std::span<uint8_t> batches, int64_t now_ms);
  // Where an acks=all append stands: done once the high watermark passed its last
  // offset; waiting until then (park on p.hw_waiters() with last_offset + 1);
  // not_enough_replicas_after_append when the ISR has fallen below the minimum.
  replication_status replication_of(const partition& p, int64_t last_offset, int32_t min_insync_replicas) const;

  // Calls `done` once an acks=all append is replicated (success), the ISR fell
  // below the minimum (errc::not_enough_replicas_after_append), the log went offline
  // (errc::partition_offline) or this broker stopped leading (errc::not_leader_or_follower): at once when it already is, else
  // from the thread that moves the high watermark. No timeout of its own: a lost
  // leadership or a deletion always answers (the group coordinator's commits).
  void when_replicated(std::shared_ptr<partition> p, int64_t last_offset, int32_t min_insync_replicas,
                       std::function<void(std::error_code)> done) const;

  // A follower's read also records its fetch (its log end offset and caught-up time)
  // and may expand the ISR and advance the high watermark (DESIGN-NOTES §8, §9).
  storage::result<partition_read> read(const std::shared_ptr<partition>& p, const read_request& r);
  // A follower's fetch that named the partition but read nothing from it (the
  // response was full): its position still counts (Kafka updates every fetched
  // partition's follower state), or a follower of many partitions would leave
  // their ISRs under load.
  void follower_fetched(const std::shared_ptr<partition>& p, const read_request& r);
  // Leadership lease (cluster mode): a leader appends only while the lease runs. The
  // cluster member extends it while the process runs normally and its ZooKeeper
  // session is known to be alive; a process paused past it (SIGSTOP, a stall) finds it
  // expired when it resumes and refuses writes as leader (NOT_LEADER_OR_FOLLOWER)
  // until it has checked with ZooKeeper, before it can learn that another broker
  // was elected. Off (0) on a single node.
  void extend_leadership_lease(int64_t until_steady_ms) { lease_until_ms_.store(until_steady_ms); }
  bool lease_valid() const;
  // This broker lost its ZooKeeper session: it stops acting as leader (produce and
  // consumer fetches get NOT_LEADER_OR_FOLLOWER) until the controller's next
  // LeaderAndIsr, so two brokers never both accept writes for one partition.
  void resign_leaderships();
  // The ISR-shrink task (every replica.lag.time.max.ms / 2): proposes removing the
  // followers of every partition led here that have not caught up in time.
  void shrink_isrs(int64_t now_ms);
  // The store committed an ISR change (or the controller sent a newer state).
  void isr_committed(partition& p, const partition_state& committed, int64_t now_ms);
  // The change was refused (a newer state is on its way from the controller).
  void isr_change_failed(partition& p);
  // The leader's HW over the ISR: recomputed after follower fetches and ISR changes.
  void maybe_advance_high_watermark(partition& p, int64_t now_ms);

  // Replication throttles (KIP-73): bytes this broker serves to, or fetches as,
  // out-of-sync replicas named in a topic's *.replication.throttled.replicas. The
  // limits come from leader/follower.replication.throttled.rate (cluster member).
  replication_quota& leader_quota() { return leader_quota_; }
  replication_quota& follower_quota() { return follower_quota_; }
  // Whether `replica` is in the partition's ISR (the committed one).
  bool in_isr(const partition& p, int32_t replica) const;

  // For /metrics.
  struct stats {
    uint64_t leaders = 0, under_replicated = 0, isr_shrinks = 0, isr_expands = 0;
  };
  stats statistics() const;
  // KIP-320 fencing and the leadership check shared by reads, ListOffsets and
  // OffsetsForLeaderEpoch: errc::not_leader_or_follower when this broker does not
  // lead (followers are served by the leader only: no fetch from followers yet).
  std::error_code check_leader(const partition& p, int32_t current_leader_epoch) const;

 private:
  std::shared_ptr<partition> install(std::shared_ptr<partition> p, const partition_state& state);
  std::error_code transition(partition& p, const partition_state& state, replica_role role);
  void record_follower_fetch(const std::shared_ptr<partition>& p, const read_request& r, int64_t leader_leo);
  void propose_isr(const std::shared_ptr<partition>& p, std::vector<int32_t> isr);
  // The HW follows the log end exactly when this leader is the whole (maximal) ISR.
  void update_hw_mode(partition& p);
  bool alive(int32_t broker) const;

  const int32_t local_id_;
  std::atomic<int64_t> lag_max_ms_{30000};
  std::atomic<uint64_t> isr_shrinks_{0}, isr_expands_{0};
  std::atomic<int64_t> lease_until_ms_{0};  // 0: no lease (single node)
  mutable std::mutex hooks_mu_;
  isr_change_fn isr_change_;
  std::function<bool(int32_t)> broker_alive_;
  replication_quota leader_quota_, follower_quota_;
  mutable std::mutex mu_;  // the map only
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<partition>, std::less<>> partitions_;
};

}  // namespace strata::cluster
