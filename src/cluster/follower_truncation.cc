#include "cluster/follower_truncation.h"

#include <algorithm>

namespace strata::cluster {

truncation_state offset_truncation_state(const epoch_end_offset& leader_answer,
                                         int64_t follower_log_end_offset,
                                         int64_t follower_high_watermark,
                                         const epoch_end_offset_lookup& follower_end_offset_for) {
  if (leader_answer.end_offset == storage::kUndefinedEpochOffset) {
    return {std::min(follower_high_watermark, follower_log_end_offset), true};
  }
  if (leader_answer.leader_epoch == storage::kUndefinedEpoch) {
    return {std::min(leader_answer.end_offset, follower_log_end_offset), true};
  }
  const epoch_end_offset mine = follower_end_offset_for(leader_answer.leader_epoch);
  if (mine.end_offset == storage::kUndefinedEpochOffset) {
    return {std::min(leader_answer.end_offset, follower_log_end_offset), true};
  }
  if (mine.leader_epoch != leader_answer.leader_epoch) {
    return {std::min(mine.end_offset, follower_log_end_offset), false};
  }
  return {std::min({leader_answer.end_offset, mine.end_offset, follower_log_end_offset}), true};
}

leader_epoch_check check_current_leader_epoch(int32_t request_current_leader_epoch,
                                              int32_t local_leader_epoch) {
  if (request_current_leader_epoch == storage::kUndefinedEpoch) return leader_epoch_check::ok;
  if (request_current_leader_epoch < local_leader_epoch) return leader_epoch_check::fenced_leader_epoch;
  if (request_current_leader_epoch > local_leader_epoch) return leader_epoch_check::unknown_leader_epoch;
  return leader_epoch_check::ok;
}

diverging_epoch_result check_diverging_epoch(int32_t last_fetched_epoch, int64_t fetch_offset,
                                             const epoch_end_offset& leader_end_offset_for_last_fetched_epoch,
                                             int64_t leader_log_start_offset) {
  if (last_fetched_epoch == storage::kUndefinedEpoch) return {};
  const epoch_end_offset& answer = leader_end_offset_for_last_fetched_epoch;
  if (answer.end_offset == storage::kUndefinedEpochOffset ||
      answer.leader_epoch == storage::kUndefinedEpoch) {
    return {diverging_epoch_status::offset_out_of_range, {}};
  }
  // Checked before divergence: a follower below the log start must reset, whatever
  // its epochs say.
  if (fetch_offset < leader_log_start_offset) return {diverging_epoch_status::offset_out_of_range, {}};
  if (answer.leader_epoch < last_fetched_epoch || answer.end_offset < fetch_offset) {
    return {diverging_epoch_status::diverging, answer};
  }
  return {};
}

out_of_range_result handle_offset_out_of_range(int64_t follower_log_end_offset,
                                               int64_t leader_log_end_offset,
                                               int64_t leader_log_start_offset) {
  if (leader_log_end_offset < follower_log_end_offset) {
    return {out_of_range_action::truncate, leader_log_end_offset};
  }
  if (leader_log_start_offset > follower_log_end_offset) {
    return {out_of_range_action::truncate_fully_and_start_at, leader_log_start_offset};
  }
  return {out_of_range_action::fetch_from, std::max(leader_log_start_offset, follower_log_end_offset)};
}

}  // namespace strata::cluster
