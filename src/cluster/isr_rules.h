#pragma once
// ISR membership and acks=all rules (DESIGN-NOTES §9, §10) as pure functions.
//
// Matches Kafka's Partition (getOutOfSyncReplicas, canAddReplicaToIsr,
// isFollowerInSync, appendRecordsToLeader, checkEnoughReplicasReachOffset) in
// ZooKeeper mode. No clock is read and no lock is taken: the caller passes a snapshot
// taken under the partition's lock. Ids and offsets are plain integers (STYLE 2.3).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "cluster/replica_state.h"

namespace strata::cluster {

// The ISR used for the HW and for acks=all: the committed ISR plus the follower whose
// addition is in flight (Kafka's PartitionState.maximalIsr; a pending shrink keeps the
// committed ISR). Adding replicas only makes both rules stricter, so acting on an
// expansion the controller may still refuse is safe (KIP-497).
std::vector<int32_t> maximal_isr(std::span<const int32_t> committed_isr,
                                 std::optional<int32_t> pending_expand_replica);

struct isr_shrink_input {
  int32_t leader_id = -1;
  std::span<const int32_t> isr;                // the committed ISR
  std::span<const replica_state> followers;    // every follower the leader tracks
  int64_t leader_log_end_offset = 0;
  int64_t now_ms = 0;
  int64_t replica_lag_time_max_ms = 30000;
  bool isr_change_in_flight = false;
};

// Kafka's getOutOfSyncReplicas, for the shrink task that runs every
// replica.lag.time.max.ms / 2. Returns, in ISR order, the ISR members other than the
// leader that are not caught up (is_caught_up): both stuck followers (no fetch for the
// lag time) and slow ones (no fetch reaching the LEO for the lag time). An ISR member
// the leader has no state for counts as out of sync. Returns nothing while an ISR change
// is in flight: only one change per partition at a time. The leader never removes
// itself.
std::vector<int32_t> out_of_sync_replicas(const isr_shrink_input& in);

struct isr_expand_input {
  int64_t follower_log_end_offset = kUnknownOffset;
  int64_t high_watermark = 0;
  // The leader's LEO when it started its current epoch (the start offset of its epoch
  // in the leader-epoch cache).
  int64_t leader_epoch_start_offset = 0;
  bool broker_alive = false;  // Kafka's isReplicaIsrEligible in ZooKeeper mode
  bool in_isr = false;        // already in the committed ISR
  bool isr_change_in_flight = false;
};

// Kafka's canAddReplicaToIsr && isFollowerInSync, checked on every follower fetch. Add
// the follower when no ISR change is in flight, it is not in the ISR, its broker is
// alive, its LEO >= the HW, and its LEO >= the start offset of the leader's epoch. The
// last clause keeps out a follower that has not yet fetched anything written in this
// epoch: if committed data lay between the HW and the leader's LEO, such a follower
// could become leader without it. Kafka checks the HW and not lastCaughtUpTimeMs, to
// agree with what a follower itself considers in sync.
bool should_expand_isr(const isr_expand_input& in);

// ---- acks and min.insync.replicas (DESIGN-NOTES §10) ----

// Only 0, 1 and -1 are valid acks; anything else is INVALID_REQUIRED_ACKS.
bool is_valid_required_acks(int16_t acks);

// The min.insync.replicas that Strata enforces: the topic's setting as it is.
// Classic Kafka: an acks=all produce is refused when ISR size < min.insync.replicas.
// Deviation: Kafka trunk caps the setting at the replication factor
// (Partition.effectiveMinIsr = min(min.insync.replicas, replicas)), so a topic with
// min.insync.replicas=4 and three replicas accepts acks=all there but is refused here,
// as in classic Kafka. With min.insync.replicas <= the replication factor both agree
// (e.g. three replicas, two brokers down, min.insync.replicas=2: refused either way).
int32_t effective_min_insync_replicas(int32_t min_insync_replicas);

// Kafka's appendRecordsToLeader check, made before appending an acks=all produce:
// false means refuse with NOT_ENOUGH_REPLICAS and append nothing. Uses the committed
// ISR, as Kafka does.
bool has_enough_replicas_for_append(std::size_t isr_size, int32_t min_insync_replicas);

enum class acks_all_status {
  wait,                              // the HW has not reached the required offset yet
  done,                              // answer with success
  not_enough_replicas_after_append,  // HW reached, but the ISR shrank below the minimum
};

// Kafka's checkEnoughReplicasReachOffset for a parked acks=all produce whose batch ends
// just below `required_offset` (last offset + 1). Re-check whenever the HW moves; a
// timeout (REQUEST_TIMED_OUT) or lost leadership (NOT_LEADER_OR_FOLLOWER) is the
// caller's to detect. `isr_size` is the size of the maximal ISR.
acks_all_status acks_all_satisfied(int64_t high_watermark, int64_t required_offset,
                                   std::size_t isr_size, int32_t min_insync_replicas);

}  // namespace strata::cluster
