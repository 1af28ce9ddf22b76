#pragma once
// High-watermark rules (DESIGN-NOTES §8) as pure functions: the leader's HW from the
// replica states, and a follower's HW from the leader's fetch response.
//
// Matches Kafka's Partition.maybeIncrementLeaderHW with UnifiedLog.maybeIncrementHighWatermark
// (leader), and ReplicaFetcherThread.processPartitionData with
// UnifiedLog.maybeUpdateHighWatermark / updateHighWatermark (follower).
//
// No clock is read and no lock is taken: the caller passes a consistent snapshot, taken
// under the partition's lock, and applies the result under that same lock.
#include <cstdint>
#include <optional>
#include <span>

#include "cluster/replica_state.h"

namespace strata::cluster {

struct leader_hw_input {
  int64_t leader_log_end_offset = 0;
  int64_t high_watermark = 0;  // the leader's current HW
  // Every follower in the assignment (the leader itself is not in this list).
  std::span<const replica_state> followers;
  // The "maximal" ISR: the committed ISR, plus the follower being added while an ISR
  // expansion is in flight (KIP-497; Kafka's PendingExpandIsr). A pending shrink does
  // not remove anyone from it: waiting for more replicas is always safe.
  std::span<const int32_t> maximal_isr;
  // Brokers allowed to join the ISR. In ZooKeeper mode that is the live brokers
  // (Kafka's isReplicaIsrEligible = metadataCache.hasAliveBroker).
  std::span<const int32_t> isr_eligible_brokers;
  int64_t now_ms = 0;
  int64_t replica_lag_time_max_ms = 30000;
};

// The leader's new HW, or nullopt when it does not move. The candidate is the minimum
// LEO over:
//   - the leader;
//   - every follower in the maximal ISR (one that has not fetched since this broker
//     became leader has an unknown LEO, -1, and holds the HW where it is);
//   - every follower outside it that is caught up (is_caught_up) and ISR-eligible, so
//     that a follower about to join is not left behind by a HW it can never reach.
// The HW only moves forward, and never past the leader's LEO (the leader is in the min).
//
// Recompute after a follower's LEO moves, after the ISR changes, and after a local
// append (the ISR may be the leader alone).
//
// Deviation: Kafka trunk also refuses to advance the HW while the ISR is smaller than
// min.insync.replicas (eligible leader replicas, KIP-966). Strata follows classic
// Kafka (DESIGN-NOTES §8 [S]): acks=all producers are refused at append time instead
// (isr_rules.h), and acks=1 data still becomes visible.
std::optional<int64_t> compute_high_watermark(const leader_hw_input& in);

// A follower's HW after a fetch response carrying `leader_high_watermark`:
// min(leader HW, own LEO), and never below its own log start offset. Returns the new
// HW, or nullopt when it equals `current_high_watermark`.
// Unlike the leader's, a follower's HW may move backwards: it copies what the current
// leader says, and a new leader may not have learnt the old leader's HW yet.
std::optional<int64_t> follower_high_watermark(int64_t leader_high_watermark,
                                               int64_t log_start_offset, int64_t log_end_offset,
                                               int64_t current_high_watermark);

}  // namespace strata::cluster
