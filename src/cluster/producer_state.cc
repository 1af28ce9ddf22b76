#include "cluster/producer_state.h"

namespace strata::cluster {

batch_identity identity_of(const records::batch_header_view& h) {
  const auto last = static_cast<int32_t>((static_cast<int64_t>(h.base_sequence()) + h.last_offset_delta()) %
                                         (int64_t{INT32_MAX} + 1));
  return {h.producer_id(), h.producer_epoch(), h.base_sequence(), last};
}

producer_state::verdict producer_state::check(const batch_identity& b) const {
  auto it = producers_.find(b.producer_id);
  if (it == producers_.end()) return {};
  const entry& e = it->second;
  if (b.producer_epoch < e.epoch) return {errc::invalid_producer_epoch, std::nullopt};
  if (b.producer_epoch > e.epoch) {
    if (b.first_sequence != 0) return {errc::out_of_order_sequence, std::nullopt};
    return {};
  }
  for (const auto& m : e.batches)
    if (m.first_sequence == b.first_sequence && m.last_sequence == b.last_sequence)
      return {errc::success, m.base_offset};
  if (!e.batches.empty()) {
    int32_t last = e.batches.back().last_sequence;
    int32_t expected = last == INT32_MAX ? 0 : last + 1;
    if (b.first_sequence != expected) return {errc::out_of_order_sequence, std::nullopt};
  }
  return {};
}

void producer_state::record(const batch_identity& b, int64_t base_offset, int64_t last_offset) {
  if (b.producer_id < 0) return;
  entry& e = producers_[b.producer_id];
  if (b.producer_epoch != e.epoch) {
    e.epoch = b.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back({b.first_sequence, b.last_sequence, base_offset, last_offset});
  while (e.batches.size() > kRetainedBatches) e.batches.pop_front();
}

}  // namespace strata::cluster
