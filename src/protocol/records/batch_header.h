#pragma once
// RecordBatch v2 (magic 2) header: a zero-copy view over the first 61 bytes.
//
//   offset  field                 type   notes
//   0       base_offset           i64    rewritten by the broker on append
//   8       batch_length          i32    bytes after this field (total = 12 + batch_length)
//   12      partition_leader_epoch i32   stamped by the leader; not under the CRC
//   16      magic                 i8     must be 2
//   17      crc                   u32    CRC-32C of bytes [21, end)
//   21      attributes            i16    bits 0-2 codec, 3 LogAppendTime, 4 transactional,
//                                        5 control, 6 delete-horizon
//   23      last_offset_delta     i32
//   27      base_timestamp        i64
//   35      max_timestamp         i64
//   43      producer_id           i64
//   51      producer_epoch        i16
//   53      base_sequence         i32
//   57      records_count         i32
//   61      records...                   one compressed blob when codec != 0
//
// All big-endian. Matches Kafka's DefaultRecordBatch.
#include <cstddef>
#include <cstdint>

namespace strata::records {

inline constexpr size_t kBatchHeaderSize = 61;
inline constexpr size_t kLogOverhead = 12;  // base_offset + batch_length
inline constexpr size_t kCrcStart = 21;
// batch_length counts the bytes after itself; a batch with no records has this much.
inline constexpr int32_t kMinBatchLength = int32_t(kBatchHeaderSize - kLogOverhead);  // 49
inline constexpr int8_t kMagicV2 = 2;

// Kafka's "absent" values (RecordBatch.NO_*).
inline constexpr int64_t kNoTimestamp = -1;
inline constexpr int64_t kNoProducerId = -1;
inline constexpr int16_t kNoProducerEpoch = -1;
inline constexpr int32_t kNoSequence = -1;
inline constexpr int32_t kNoPartitionLeaderEpoch = -1;

namespace off {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t partition_leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t records_count = 57;
}  // namespace off

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

inline constexpr int16_t kAttrCompressionMask = 0x07;
inline constexpr int16_t kAttrLogAppendTime = 0x08;
inline constexpr int16_t kAttrTransactional = 0x10;
inline constexpr int16_t kAttrControl = 0x20;
inline constexpr int16_t kAttrDeleteHorizon = 0x40;

inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
inline uint16_t load_be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }
inline void store_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) { p[i] = uint8_t(v); v >>= 8; }
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
inline void store_be16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }

// Read-only view; the caller guarantees at least kBatchHeaderSize bytes.
class batch_header_view {
 public:
  explicit batch_header_view(const uint8_t* p) : p_(p) {}
  int64_t base_offset() const { return int64_t(load_be64(p_ + off::base_offset)); }
  int32_t batch_length() const { return int32_t(load_be32(p_ + off::batch_length)); }
  int32_t partition_leader_epoch() const { return int32_t(load_be32(p_ + off::partition_leader_epoch)); }
  int8_t magic() const { return int8_t(p_[off::magic]); }
  uint32_t crc() const { return load_be32(p_ + off::crc); }
  int16_t attributes() const { return int16_t(load_be16(p_ + off::attributes)); }
  int32_t last_offset_delta() const { return int32_t(load_be32(p_ + off::last_offset_delta)); }
  int64_t base_timestamp() const { return int64_t(load_be64(p_ + off::base_timestamp)); }
  int64_t max_timestamp() const { return int64_t(load_be64(p_ + off::max_timestamp)); }
  int64_t producer_id() const { return int64_t(load_be64(p_ + off::producer_id)); }
  int16_t producer_epoch() const { return int16_t(load_be16(p_ + off::producer_epoch)); }
  int32_t base_sequence() const { return int32_t(load_be32(p_ + off::base_sequence)); }
  int32_t records_count() const { return int32_t(load_be32(p_ + off::records_count)); }

  compression codec() const { return compression(attributes() & kAttrCompressionMask); }
  bool is_log_append_time() const { return attributes() & kAttrLogAppendTime; }
  bool is_transactional() const { return attributes() & kAttrTransactional; }
  bool is_control() const { return attributes() & kAttrControl; }
  // Wraps like Java's long arithmetic instead of overflowing on hostile headers.
  int64_t last_offset() const {
    return int64_t(uint64_t(base_offset()) + uint64_t(int64_t(last_offset_delta())));
  }
  // Bytes of the whole batch, header included.
  int64_t total_size() const { return int64_t(kLogOverhead) + batch_length(); }
  const uint8_t* data() const { return p_; }

 private:
  const uint8_t* p_;
};

// Mutable accessors for the fields the broker stamps. None of these touch the CRC
// except set_log_append_time, whose caller must recompute it.
class batch_header_mut {
 public:
  explicit batch_header_mut(uint8_t* p) : p_(p) {}
  void set_base_offset(int64_t v) { store_be64(p_ + off::base_offset, uint64_t(v)); }
  void set_partition_leader_epoch(int32_t v) { store_be32(p_ + off::partition_leader_epoch, uint32_t(v)); }
  void set_crc(uint32_t v) { store_be32(p_ + off::crc, v); }
  void set_attributes(int16_t v) { store_be16(p_ + off::attributes, uint16_t(v)); }
  void set_max_timestamp(int64_t v) { store_be64(p_ + off::max_timestamp, uint64_t(v)); }
  batch_header_view view() const { return batch_header_view(p_); }

 private:
  uint8_t* p_;
};

}  // namespace strata::records
