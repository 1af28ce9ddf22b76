#pragma once
// What a partition leader knows about one follower, and the two rules that keep it:
// how a follower fetch updates it and whether the follower counts as caught up.
// Matches Kafka's ReplicaState and Replica (core/.../cluster/Replica.scala); the
// names are Kafka's (DESIGN-NOTES §8, §9).
//
// Plain values and pure functions: no clock is read (time is a parameter, in ms since
// any fixed origin), no lock is taken. The partition that owns the states serializes
// updates to them (ARCHITECTURE.md §5) and passes copies here.
//
// Offsets and ids are plain integers until base/ has strong types (STYLE 2.3).
#include <cstdint>

namespace strata::cluster {

// Kafka's UnifiedLog.UnknownOffset: a follower that has not fetched since the leader
// took over has an unknown log start and log end offset.
inline constexpr int64_t kUnknownOffset = -1;

struct replica_state {
  int32_t broker_id = -1;
  // The follower's log start offset, as sent in its last Fetch.
  int64_t log_start_offset = kUnknownOffset;
  // The follower's LEO: the fetch offset of its last Fetch (asking for N means it holds
  // everything below N).
  int64_t log_end_offset = kUnknownOffset;
  // The leader's LEO when the last Fetch arrived. Used to date lastCaughtUpTimeMs.
  int64_t last_fetch_leader_log_end_offset = 0;
  // When the leader received the last Fetch from this follower.
  int64_t last_fetch_time_ms = 0;
  // The largest time t at which the follower's latest fetch offset was >= the leader's
  // LEO at t. It decides ISR membership (replica.lag.time.max.ms).
  int64_t last_caught_up_time_ms = 0;

  bool operator==(const replica_state&) const = default;
};

// Kafka's Replica.updateFetchStateOrThrow (the ZooKeeper-mode part: no broker-epoch
// fencing). Returns the state after a Fetch at `fetch_offset` from this follower, which
// arrived at `fetch_time_ms` when the leader's LEO was `leader_leo_at_fetch`.
// lastCaughtUpTimeMs (DESIGN-NOTES §9):
//   1. fetch_offset >= leader LEO now              -> max(old, fetch_time_ms)
//   2. else fetch_offset >= leader LEO at the
//      previous fetch                              -> max(old, previous fetch time)
//   3. else                                        -> unchanged
// Rule 2 lets a follower join the ISR even when small produces keep the leader's LEO
// always a little ahead of every fetch. lastCaughtUpTimeMs never moves backwards.
replica_state update_follower_fetch_state(const replica_state& state, int64_t fetch_offset,
                                          int64_t follower_log_start_offset,
                                          int64_t leader_leo_at_fetch, int64_t fetch_time_ms);

// Kafka's ReplicaState.isCaughtUp: the follower's LEO equals the leader's, or it was
// caught up at most `replica_lag_time_max_ms` ago. The first clause keeps an idle
// follower (nothing to fetch, so its lastCaughtUpTimeMs may be old) in the ISR.
bool is_caught_up(const replica_state& state, int64_t leader_leo, int64_t now_ms,
                  int64_t replica_lag_time_max_ms);

// Kafka's Replica.resetReplicaState, run for each follower when this broker becomes
// leader (`is_new_leader`: it was not leading in the previous epoch) or is re-elected.
// A follower in the ISR is considered caught up now; one outside it gets time 0 so it
// neither holds back the HW nor re-enters the ISR before it fetches. A new leader knows
// nothing of the follower's log; a re-elected one keeps what it had.
replica_state reset_replica_state(const replica_state& state, int64_t now_ms, int64_t leader_leo,
                                  bool is_new_leader, bool is_follower_in_sync);

}  // namespace strata::cluster
