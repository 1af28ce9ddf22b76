#include "cluster/high_watermark.h"

#include <algorithm>

namespace strata::cluster {
namespace {

bool contains(std::span<const int32_t> ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Kafka's condition for a replica to hold the HW back.
bool holds_high_watermark(const replica_state& r, const leader_hw_input& in) {
  if (contains(in.maximal_isr, r.broker_id)) return true;
  return is_caught_up(r, in.leader_log_end_offset, in.now_ms, in.replica_lag_time_max_ms) &&
         contains(in.isr_eligible_brokers, r.broker_id);
}

}  // namespace

std::optional<int64_t> compute_high_watermark(const leader_hw_input& in) {
  int64_t candidate = in.leader_log_end_offset;
  for (const auto& r : in.followers) {
    if (r.log_end_offset < candidate && holds_high_watermark(r, in)) candidate = r.log_end_offset;
  }
  if (candidate <= in.high_watermark) return std::nullopt;
  return candidate;
}

std::optional<int64_t> follower_high_watermark(int64_t leader_high_watermark,
                                               int64_t log_start_offset, int64_t log_end_offset,
                                               int64_t current_high_watermark) {
  int64_t hw = leader_high_watermark;
  if (hw < log_start_offset) {
    hw = log_start_offset;
  } else if (hw >= log_end_offset) {
    hw = log_end_offset;
  }
  if (hw == current_high_watermark) return std::nullopt;
  return hw;
}

}  // namespace strata::cluster
