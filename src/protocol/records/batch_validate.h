#pragma once
// Header-only validation of RecordBatch v2 buffers: the broker's produce hot path.
//
// A buffer holds zero or more batches back to back, as a Produce request, a Fetch
// response or a segment file carries them. Each batch is checked without parsing
// its records (ARCHITECTURE.md decision 2):
//
//   1. at least 12 bytes for base_offset + batch_length, and batch_length >= 49;
//   2. the whole batch (12 + batch_length bytes) is in the buffer;
//   3. magic == 2;
//   4. CRC-32C over [21, end) equals the stored crc;
//   5. compression codec is 0..4;
//   6. last_offset_delta >= 0 and records_count >= 0;
//   7. in client mode only (Kafka's LogValidator.validateBatch, AppendOrigin.CLIENT):
//      records_count > 0 and == last_offset_delta + 1, no control batch, and
//      base_sequence >= 0 whenever producer_id >= 0.
//   In log mode (replication, recovery, fetch) compacted batches are legal: a batch
//   may hold fewer records than its offset range (even none), so only
//   records_count <= last_offset_delta + 1 is required.
//
// Nothing is allocated. Per-batch details are handed to a visitor; the result holds
// the totals. Order of checks follows Kafka (sizes, magic, then CRC), so the error a
// client sees matches what a Kafka broker would report.
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/records/batch_header.h"
#include "protocol/records/errc.h"

namespace strata::records {

enum class validate_mode : uint8_t {
  client,  // a Produce request from a client: Kafka's strict rules
  log,     // bytes that were already in a log (replica fetch, recovery, compaction)
};

struct validate_options {
  validate_mode mode = validate_mode::client;
  // Fetch responses and a crashed segment may end inside a batch. When true, such a
  // tail stops validation without error (result.partial_tail is set); when false it
  // is errc::truncated. A tail too short to hold base_offset + batch_length counts.
  bool allow_partial_tail = false;
  // 0 = no limit; otherwise a batch with 12 + batch_length > max_batch_size is
  // errc::batch_too_large (Kafka's max.message.bytes check, RecordTooLargeException).
  size_t max_batch_size = 0;
};

// What storage and producer-state tracking need from one batch header. Plain copy of
// the header fields: it does not point into the buffer.
struct batch_info {
  size_t position = 0;  // of the batch in the validated buffer
  size_t size = 0;      // whole batch, header included (12 + batch_length)
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = 0;
  int16_t producer_epoch = 0;
  int32_t base_sequence = 0;
  int32_t records_count = 0;

  compression codec() const { return compression(attributes & kAttrCompressionMask); }
  bool is_log_append_time() const { return attributes & kAttrLogAppendTime; }
  bool is_transactional() const { return attributes & kAttrTransactional; }
  bool is_control() const { return attributes & kAttrControl; }
  bool has_producer_id() const { return producer_id >= 0; }
  int64_t last_offset() const {
    return int64_t(uint64_t(base_offset) + uint64_t(int64_t(last_offset_delta)));
  }
  // Kafka's DefaultRecordBatch.lastSequence: wraps at INT32_MAX; -1 when none.
  int32_t last_sequence() const;
};

struct validate_result {
  errc error = errc::ok;
  // Bytes of complete, valid batches at the front of the buffer. On error it is also
  // where the bad batch starts: storage recovery truncates there.
  size_t valid_bytes = 0;
  bool partial_tail = false;  // stopped at an incomplete tail (allow_partial_tail)

  size_t batch_count = 0;    // valid batches
  int64_t record_count = 0;  // sum of records_count
  // Offsets the valid batches span, sum of (last_offset_delta + 1): what the leader
  // adds to its log end offset when it assigns offsets.
  int64_t offset_count = 0;

  int64_t first_timestamp = kNoTimestamp;  // base_timestamp of the first batch
  int64_t last_timestamp = kNoTimestamp;   // max_timestamp of the last batch
  int64_t max_timestamp = kNoTimestamp;    // over all batches
  // Offset of the last record of the batch holding max_timestamp, relative to the
  // first batch's first offset (so the broker adds its assigned base offset). Kafka
  // v2: shallowOffsetOfMaxTimestamp. -1 when no batch.
  int64_t offset_delta_of_max_timestamp = -1;

  bool any_compressed = false;
  bool any_transactional = false;
  bool any_control = false;

  bool ok() const { return error == errc::ok; }
};

// The CRC-32C a batch should carry: over [21, size). `batch` must hold >= 21 bytes.
uint32_t compute_batch_crc(std::span<const uint8_t> batch);

// Checks the batch that starts at buf[0] (buf may hold more after it). On success
// fills `info` (position 0). On errc::truncated, `info.size` is the size the header
// claims when known (0 otherwise).
errc validate_batch(std::span<const uint8_t> buf, const validate_options& opts, batch_info& info);

// Validates every batch in `buf`, calling on_batch(const batch_info&) for each valid
// one in order. Stops at the first error.
template <typename OnBatch>
validate_result validate_batches(std::span<const uint8_t> buf, const validate_options& opts,
                                 OnBatch&& on_batch);

// The same without a visitor.
validate_result validate_batches(std::span<const uint8_t> buf, const validate_options& opts = {});

// ---------------------------------------------------------------------------------
// Implementation.

namespace detail {
// Folds one valid batch into the totals.
void accumulate(validate_result& r, const batch_info& b);
}  // namespace detail

template <typename OnBatch>
validate_result validate_batches(std::span<const uint8_t> buf, const validate_options& opts,
                                 OnBatch&& on_batch) {
  validate_result r;
  size_t pos = 0;
  while (pos < buf.size()) {
    batch_info info;
    errc e = validate_batch(buf.subspan(pos), opts, info);
    if (e == errc::truncated && opts.allow_partial_tail) {
      r.partial_tail = true;
      break;
    }
    if (e != errc::ok) {
      r.error = e;
      break;
    }
    info.position = pos;
    detail::accumulate(r, info);
    on_batch(static_cast<const batch_info&>(info));
    pos += info.size;
    r.valid_bytes = pos;
  }
  return r;
}

}  // namespace strata::records
