// Rebuilds a partition's producer state from the batch headers at the tail
// of its log (see producer_state.h for why only the tail).
#include <unistd.h>

#include "cluster/producer_state.h"
#include "protocol/records/batch_header.h"
#include "storage/log.h"

namespace strata::cluster {

void rebuild_producer_state(storage::log& log, producer_state& state) {
  const int64_t end = log.log_end_offset();
  int64_t offset = std::max(log.log_start_offset(), end - producer_state::kRebuildWindow);
  uint8_t header[records::kBatchHeaderSize];
  while (offset < end) {
    auto rd = log.read(offset, 1 << 20, end, true);
    if (!rd || rd->ranges.empty()) break;
    int64_t next = offset;
    for (const auto& fr : rd->ranges) {
      uint64_t pos = fr.position;
      const uint64_t stop = fr.position + fr.size;
      while (pos + sizeof header <= stop) {
        if (::pread(fr.fd, header, sizeof header, static_cast<off_t>(pos)) != static_cast<ssize_t>(sizeof header))
          return;
        records::batch_header_view h(header);
        if (h.total_size() < static_cast<int64_t>(sizeof header)) return;
        if (h.producer_id() >= 0 && h.base_sequence() >= 0) {
          state.record(identity_of(h), h.base_offset(), h.last_offset());
        }
        next = h.last_offset() + 1;
        pos += static_cast<uint64_t>(h.total_size());
      }
    }
    if (next <= offset) break;
    offset = next;
  }
}

}  // namespace strata::cluster
