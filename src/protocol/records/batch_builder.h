#pragma once
// Building RecordBatch v2 batches: for tests, for the broker's own topics
// (__consumer_offsets, transaction markers) and for rewriting batches (compaction).
// Also the in-place LogAppendTime restamp of a stored batch.
//
// The builder follows Kafka's MemoryRecordsBuilder: base_timestamp is the first
// record's timestamp, max_timestamp the largest (or the log append time), offset
// deltas count from 0 unless given, and the CRC is computed last.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/records/batch_header.h"
#include "protocol/records/codecs.h"
#include "protocol/records/errc.h"
#include "protocol/records/record_iterator.h"

namespace strata::records {

struct batch_options {
  compression codec = compression::none;
  compress_options compress{};
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = kNoPartitionLeaderEpoch;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
  bool transactional = false;
  bool control = false;
  // Set: the batch has timestamp type LogAppendTime and this max_timestamp.
  std::optional<int64_t> log_append_time;
  // Set: written as last_offset_delta instead of the last record's offset delta (a
  // compacted batch keeps its original range). Must not be below that delta.
  std::optional<int32_t> last_offset_delta;
};

// One record to add; the views must stay valid until finish() (the builder copies
// them into its buffer at add time, so in fact only for the duration of add()).
struct record_data {
  int64_t timestamp = kNoTimestamp;
  nullable_bytes key;
  nullable_bytes value;
  std::span<const record_header> headers;
};

class batch_builder {
 public:
  explicit batch_builder(const batch_options& opts = {}) : opts_(opts) {}

  // Adds a record at the next offset delta (0, 1, 2, ...).
  void add(const record_data& r);
  void add(int64_t timestamp, nullable_bytes key, nullable_bytes value,
           std::span<const record_header> headers = {}) {
    add(record_data{timestamp, key, value, headers});
  }
  // Adds a record at an explicit offset delta, which must exceed the previous one
  // (otherwise finish() fails with errc::invalid_record).
  void add_at(int32_t offset_delta, const record_data& r);

  int32_t record_count() const { return count_; }
  size_t records_bytes() const { return records_.size(); }  // uncompressed, so far

  // Appends the finished batch to `out`. On error `out` is left as it was. The
  // builder may then be reset() and reused (its buffer keeps its capacity).
  errc finish(std::vector<uint8_t>& out);
  void reset(const batch_options& opts);

 private:
  batch_options opts_;
  std::vector<uint8_t> records_;
  int32_t count_ = 0;
  int32_t last_delta_ = -1;
  int64_t base_timestamp_ = kNoTimestamp;
  int64_t max_timestamp_ = kNoTimestamp;
  errc error_ = errc::ok;
};

// Builds one batch from `records` (offset deltas 0..n-1) and appends it to `out`.
errc build_batch(const batch_options& opts, std::span<const record_data> records,
                 std::vector<uint8_t>& out);

// Recomputes and stores the CRC of one batch (>= 61 bytes; the CRC covers [21, size)).
void update_batch_crc(std::span<uint8_t> batch);

// For LogAppendTime topics: on every batch of `buf` (validated beforehand) sets the
// timestamp-type bit and max_timestamp = `timestamp`, and recomputes the CRC, as
// Kafka's DefaultRecordBatch.setMaxTimestamp(LOG_APPEND_TIME, now). base_timestamp and
// the records are left alone: readers take a LogAppendTime record's timestamp from
// max_timestamp. Returns errc::truncated (and stops) if the framing is off.
errc stamp_log_append_time(std::span<uint8_t> buf, int64_t timestamp);

}  // namespace strata::records
