#include "cluster/isr_rules.h"

#include <algorithm>

namespace strata::cluster {
namespace {

const replica_state* find_replica(std::span<const replica_state> followers, int32_t id) {
  auto it = std::find_if(followers.begin(), followers.end(),
                         [&](const replica_state& r) { return r.broker_id == id; });
  return it == followers.end() ? nullptr : &*it;
}

}  // namespace

std::vector<int32_t> maximal_isr(std::span<const int32_t> committed_isr,
                                 std::optional<int32_t> pending_expand_replica) {
  std::vector<int32_t> out(committed_isr.begin(), committed_isr.end());
  if (pending_expand_replica &&
      std::find(out.begin(), out.end(), *pending_expand_replica) == out.end()) {
    out.push_back(*pending_expand_replica);
  }
  return out;
}

std::vector<int32_t> out_of_sync_replicas(const isr_shrink_input& in) {
  std::vector<int32_t> out;
  if (in.isr_change_in_flight) return out;
  for (int32_t id : in.isr) {
    if (id == in.leader_id) continue;
    const replica_state* r = find_replica(in.followers, id);
    if (r == nullptr ||
        !is_caught_up(*r, in.leader_log_end_offset, in.now_ms, in.replica_lag_time_max_ms)) {
      out.push_back(id);
    }
  }
  return out;
}

bool should_expand_isr(const isr_expand_input& in) {
  return !in.isr_change_in_flight && !in.in_isr && in.broker_alive &&
         in.follower_log_end_offset >= in.high_watermark &&
         in.follower_log_end_offset >= in.leader_epoch_start_offset;
}

bool is_valid_required_acks(int16_t acks) { return acks == 0 || acks == 1 || acks == -1; }

int32_t effective_min_insync_replicas(int32_t min_insync_replicas) { return min_insync_replicas; }

bool has_enough_replicas_for_append(std::size_t isr_size, int32_t min_insync_replicas) {
  return static_cast<int64_t>(isr_size) >= effective_min_insync_replicas(min_insync_replicas);
}

acks_all_status acks_all_satisfied(int64_t high_watermark, int64_t required_offset,
                                   std::size_t isr_size, int32_t min_insync_replicas) {
  if (high_watermark < required_offset) return acks_all_status::wait;
  if (static_cast<int64_t>(isr_size) < effective_min_insync_replicas(min_insync_replicas)) {
    return acks_all_status::not_enough_replicas_after_append;
  }
  return acks_all_status::done;
}

}  // namespace strata::cluster
