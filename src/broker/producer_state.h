#pragma once
// Idempotent-producer state of one partition (DESIGN-NOTES §11, Kafka's
// ProducerStateManager): for each producer id its epoch and the sequence
// ranges and offsets of its last 5 batches.
//
// Checks on a client batch with producer_id >= 0, in Kafka's order:
//   1. epoch below the stored one            -> INVALID_PRODUCER_EPOCH
//   2. same epoch, (first, last) sequence equal to a retained batch
//                                            -> duplicate: answer success with
//                                               that batch's base offset, append nothing
//   3. newer epoch and base sequence != 0    -> OUT_OF_ORDER_SEQUENCE_NUMBER
//   4. same epoch, base != last + 1 (wrapping at INT32_MAX)
//                                            -> OUT_OF_ORDER_SEQUENCE_NUMBER
//   5. a producer with no state is accepted at any sequence (KIP-360).
//
// Deviation: Kafka keeps producer snapshots on disk. Strata rebuilds the state
// after a restart from the batch headers of the log's tail (the last
// `kRebuildWindow` offsets), the first time an idempotent batch arrives; a
// producer whose last batches lie further back counts as unknown (rule 5).
//
// Not thread-safe by itself: partition serialises check + append + record.
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

#include "protocol/generated/error_code.h"

namespace strata::broker {

struct batch_identity {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t first_sequence = -1;
  int32_t last_sequence = -1;
};

class producer_state {
 public:
  static constexpr int64_t kRebuildWindow = 200'000;
  static constexpr size_t kRetainedBatches = 5;

  struct verdict {
    protocol::error_code error = protocol::error_code::none;
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

}  // namespace strata::broker

namespace strata::storage {
class log;
}

namespace strata::broker {
// Fills `state` from the batch headers of the last kRebuildWindow offsets.
void rebuild_producer_state(storage::log& log, producer_state& state);
}  // namespace strata::broker
