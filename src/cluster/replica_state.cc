#include "cluster/replica_state.h"

#include <algorithm>

namespace strata::cluster {

replica_state update_follower_fetch_state(const replica_state& state, int64_t fetch_offset,
                                          int64_t follower_log_start_offset,
                                          int64_t leader_leo_at_fetch, int64_t fetch_time_ms) {
  replica_state next = state;
  if (fetch_offset >= leader_leo_at_fetch) {
    next.last_caught_up_time_ms = std::max(state.last_caught_up_time_ms, fetch_time_ms);
  } else if (fetch_offset >= state.last_fetch_leader_log_end_offset) {
    next.last_caught_up_time_ms = std::max(state.last_caught_up_time_ms, state.last_fetch_time_ms);
  }
  next.log_start_offset = follower_log_start_offset;
  next.log_end_offset = fetch_offset;
  // Kafka keeps the largest leader LEO seen at a fetch, so an out-of-date snapshot of
  // the LEO passed with one fetch cannot lower the bar for the next one.
  next.last_fetch_leader_log_end_offset =
      std::max(leader_leo_at_fetch, state.last_fetch_leader_log_end_offset);
  next.last_fetch_time_ms = fetch_time_ms;
  return next;
}

bool is_caught_up(const replica_state& state, int64_t leader_leo, int64_t now_ms,
                  int64_t replica_lag_time_max_ms) {
  return state.log_end_offset == leader_leo ||
         now_ms - state.last_caught_up_time_ms <= replica_lag_time_max_ms;
}

replica_state reset_replica_state(const replica_state& state, int64_t now_ms, int64_t leader_leo,
                                  bool is_new_leader, bool is_follower_in_sync) {
  replica_state next = state;
  next.last_caught_up_time_ms = is_follower_in_sync ? now_ms : 0;
  if (is_new_leader) {
    next.log_start_offset = kUnknownOffset;
    next.log_end_offset = kUnknownOffset;
    next.last_fetch_leader_log_end_offset = kUnknownOffset;
    next.last_fetch_time_ms = 0;
  } else {
    next.last_fetch_leader_log_end_offset = leader_leo;
    next.last_fetch_time_ms = is_follower_in_sync ? now_ms : 0;
  }
  return next;
}

}  // namespace strata::cluster
