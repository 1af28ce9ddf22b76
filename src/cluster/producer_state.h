#pragma once
// Idempotent-producer state of one partition (DESIGN-NOTES §11, Kafka's
// ProducerStateManager): for each producer id its epoch and the sequence
// ranges and offsets of its last 5 batches.
//
// Checks on a client batch with producer_id >= 0, in Kafka's order:
//   1. epoch below the stored one            -> errc::invalid_producer_epoch
//   2. same epoch, (first, last) sequence equal to a retained batch
//                                            -> duplicate: answer success with
//                                               that batch's base offset, append nothing
//   3. newer epoch and base sequence != 0    -> errc::out_of_order_sequence
//   4. same epoch, base != last + 1 (wrapping at INT32_MAX)
//                                            -> errc::out_of_order_sequence
//   5. a producer with no state is accepted at any sequence (KIP-360).
//
// Deviation: Kafka keeps producer snapshots on disk. Strata rebuilds the state
// after a restart from the batch headers of the log's tail (the last
// `kRebuildWindow` offsets), the first time an idempotent batch arrives; a
// producer whose last batches lie further back counts as unknown (rule 5).
//
// Not thread-safe by itself: the replica manager serialises check + append +
// record under the partition's idempotence mutex.
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "cluster/errc.h"
#include "protocol/records/batch_header.h"

namespace strata::cluster {

struct batch_identity {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t first_sequence = -1;
  int32_t last_sequence = -1;
};

// The identity of a stored batch, from its header (sequences wrap at INT32_MAX).
batch_identity identity_of(const records::batch_header_view& h);

class producer_state {
 public:
  static constexpr int64_t kRebuildWindow = 200'000;
  static constexpr size_t kRetainedBatches = 5;

  struct verdict {
    errc error = errc::success;
    std::optional<int64_t> duplicate_of;  // base offset of the original batch
  };
  verdict check(const batch_identity& b) const;
  // Records an appended batch (client appends and the rebuild scan).
  void record(const batch_identity& b, int64_t base_offset, int64_t last_offset);

  bool loaded = false;

 private:
  struct batch_meta {
    int32_t first_sequence, last_sequence;
    int64_t base_offset, last_offset;
  };
  struct entry {
    int16_t epoch = -1;
    std::deque<batch_meta> batches;
  };
  std::unordered_map<int64_t, entry> producers_;
};

}  // namespace strata::cluster

namespace strata::storage {
class log;
}

namespace strata::cluster {
// Fills `state` from the batch headers of the last kRebuildWindow offsets.
void rebuild_producer_state(storage::log& log, producer_state& state);
}  // namespace strata::cluster
