#pragma once
// What log::read returns: file ranges for sendfile, never the bytes themselves.
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

namespace strata::storage {

// `size` bytes at `position` of descriptor `fd`: whole record batches, exactly as stored.
// `keepalive` keeps the descriptor open (and the segment alive) even if retention,
// truncation or partition deletion removes the file meanwhile; hold it until the bytes
// are sent. A truncation racing the send can make the file shorter than the range:
// sendfile then sends less, and the client sees a partial batch, which Kafka clients
// discard (Kafka has the same race).
struct file_range {
  int fd = -1;
  uint64_t position = 0;
  uint32_t size = 0;
  std::shared_ptr<const void> keepalive;
};

struct read_result {
  // Whole batches from the batch holding the requested offset on, in offset order, one
  // range per segment. Empty when there is nothing below max_offset yet.
  std::vector<file_range> ranges;
  uint64_t bytes = 0;  // sum of the range sizes
  // The partition's offsets when the read started (a fetch response carries them).
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0;
};

// Copies the bytes of every range of `rd` to the end of `out`, for readers that
// must look inside the batches (group replay, ListOffsets by timestamp) rather
// than send them. Returns false if a file ended early (a truncation raced the
// read); `out` then holds only what was read whole.
bool append_range_bytes(const read_result& rd, std::vector<uint8_t>& out);

struct append_result {
  int64_t base_offset = -1;  // offset given to the first record
  int64_t last_offset = -1;  // offset of the last record
  // The append_time_ms passed in, for ProduceResponse.log_append_time_ms on
  // LogAppendTime topics (the broker reports -1 for CreateTime topics).
  int64_t log_append_time_ms = -1;
  int64_t log_start_offset = -1;
  int32_t batches = 0;
};

// ListOffsets -3 (MAX_TIMESTAMP); {-1, -1} on a log without timestamps.
struct timestamp_and_offset {
  int64_t timestamp = -1;
  int64_t offset = -1;
};

// A ListOffsets answer: a batch's timestamp, the offset to report, and its leader epoch.
struct timestamp_lookup {
  int64_t timestamp = -1;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
};

}  // namespace strata::storage
