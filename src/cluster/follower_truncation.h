#pragma once
// Where a follower's log must be cut so that it agrees with the leader's, and the
// leader's side of the same question (DESIGN-NOTES §7). Pure functions.
//
// Matches Kafka's AbstractFetcherThread (getOffsetTruncationState,
// fetchOffsetAndTruncate) on the follower and Partition (readRecords' diverging-epoch
// check, checkCurrentLeaderEpoch) on the leader.
//
// The follower's own leader-epoch cache is consulted through `epoch_end_offset_lookup`,
// which answers like Kafka's UnifiedLog.endOffsetForEpoch. Bind it to
// storage::leader_epoch_cache::end_offset_for with the log's current end offset:
//
//   auto lookup = [&](int32_t epoch) {
//     auto [e, o] = cache.end_offset_for(epoch, log.log_end_offset());
//     return epoch_end_offset{e, o};
//   };
//
// No I/O, no lock: the caller holds whatever makes the cache, LEO and HW consistent.
#include <cstdint>
#include <functional>
#include <optional>

#include "storage/leader_epoch_cache.h"

namespace strata::cluster {

// (epoch, end offset): an OffsetsForLeaderEpoch answer, a Fetch response's
// DivergingEpoch, or a leader_epoch_cache::end_offset_for result. Undefined parts are
// storage::kUndefinedEpoch / storage::kUndefinedEpochOffset (-1).
struct epoch_end_offset {
  int32_t leader_epoch = storage::kUndefinedEpoch;
  int64_t end_offset = storage::kUndefinedEpochOffset;
  bool operator==(const epoch_end_offset&) const = default;
};

// The follower's own endOffsetFor(epoch): the largest cached epoch <= `epoch` and the
// offset where it ended (see storage::leader_epoch_cache::end_offset_for). An end
// offset of -1 means the follower tracks no such epoch.
using epoch_end_offset_lookup = std::function<epoch_end_offset(int32_t epoch)>;

// Kafka's OffsetTruncationState.
struct truncation_state {
  int64_t offset = 0;  // truncate the log to this offset (a no-op if >= the LEO)
  // false: truncate, then send OffsetsForLeaderEpoch again (or fetch again, on the Fetch
  // path) with the follower's new latest epoch; the leader answered with an epoch the
  // follower does not have.
  bool truncation_completed = true;
  bool operator==(const truncation_state&) const = default;
};

// Kafka's getOffsetTruncationState: where to truncate given the leader's answer for
// the follower's latest epoch (OffsetsForLeaderEpoch) or a DivergingEpoch from a Fetch
// (v12+). In order:
//   1. leader's end offset undefined (-1): truncate to the follower's HW (DESIGN-NOTES
//      §7). Kafka truncates to the partition's initial fetch offset, which is the HW
//      for a follower that starts by asking OffsetsForLeaderEpoch; the HW is never
//      above what the leader committed, so cutting there loses nothing. Done.
//   2. leader's epoch undefined (an answer without epochs, OffsetsForLeaderEpoch v0):
//      min(leader's end offset, follower LEO). Done.
//   3. the follower has the leader's epoch (lookup(epoch).epoch == epoch):
//      min(leader's end offset, follower's end offset for it, follower LEO). Done.
//   4. the follower's largest epoch below it is another one:
//      min(follower's end offset for that one, follower LEO); not done: ask again.
//   5. the follower tracks no epoch that low (lookup gives end offset -1):
//      min(leader's end offset, follower LEO). Done.
truncation_state offset_truncation_state(const epoch_end_offset& leader_answer,
                                         int64_t follower_log_end_offset,
                                         int64_t follower_high_watermark,
                                         const epoch_end_offset_lookup& follower_end_offset_for);

// ---- Leader side ----

enum class leader_epoch_check {
  ok,
  fenced_leader_epoch,   // request epoch older than ours: FENCED_LEADER_EPOCH (74)
  unknown_leader_epoch,  // request epoch newer than ours: UNKNOWN_LEADER_EPOCH (75)
};

// Kafka's checkCurrentLeaderEpoch for Fetch, OffsetsForLeaderEpoch, ListOffsets:
// `request_current_leader_epoch` -1 (absent) skips the check.
leader_epoch_check check_current_leader_epoch(int32_t request_current_leader_epoch,
                                              int32_t local_leader_epoch);

enum class diverging_epoch_status {
  none,                 // serve records from the fetch offset
  diverging,            // answer with DivergingEpoch{epoch, end_offset} and no records
  offset_out_of_range,  // answer OFFSET_OUT_OF_RANGE
};

struct diverging_epoch_result {
  diverging_epoch_status status = diverging_epoch_status::none;
  epoch_end_offset diverging;  // set when status == diverging
  bool operator==(const diverging_epoch_result&) const = default;
};

// Kafka's check in Partition.readRecords for a Fetch (v12+) that carries
// LastFetchedEpoch (`last_fetched_epoch`, -1 when absent: no check).
// `leader_end_offset_for_last_fetched_epoch` is the leader's endOffsetFor(LastFetchedEpoch).
//   1. that answer is undefined:                        offset_out_of_range
//   2. fetch offset < the leader's log start offset:    offset_out_of_range
//   3. answer's epoch < LastFetchedEpoch, or its end
//      offset < the fetch offset:                       diverging{answer}
//   4. otherwise:                                       none
// The leader then does not update the follower's fetch state (Kafka skips
// updateFollowerFetchState for a diverging answer).
diverging_epoch_result check_diverging_epoch(int32_t last_fetched_epoch, int64_t fetch_offset,
                                             const epoch_end_offset& leader_end_offset_for_last_fetched_epoch,
                                             int64_t leader_log_start_offset);

// ---- Follower: fetch offset out of range (Kafka's fetchOffsetAndTruncate) ----

enum class out_of_range_action {
  truncate,                     // truncate the log to `offset` and fetch from there
  truncate_fully_and_start_at,  // delete the whole log, start it empty at `offset`
  fetch_from,                   // keep the log and fetch from `offset`
};

struct out_of_range_result {
  out_of_range_action action = out_of_range_action::fetch_from;
  int64_t offset = 0;
  bool operator==(const out_of_range_result&) const = default;
};

// After OFFSET_OUT_OF_RANGE from the leader, with the leader's LEO (ListOffsets latest)
// and, when needed, its log start offset (ListOffsets earliest):
//   1. leader LEO < follower LEO (only after an unclean election): truncate to the
//      leader's LEO. The logs may still differ below it; Kafka does not repair that.
//   2. leader log start > follower LEO (the follower was away while the leader deleted
//      old segments): truncate fully and restart at the leader's log start.
//   3. otherwise fetch from max(leader log start, follower LEO) = the follower's LEO.
out_of_range_result handle_offset_out_of_range(int64_t follower_log_end_offset,
                                               int64_t leader_log_end_offset,
                                               int64_t leader_log_start_offset);

}  // namespace strata::cluster
