#pragma once
// Iteration over the records of one RecordBatch v2, decompressing when needed.
//
// Record layout (Kafka's DefaultRecord), all varints zigzag:
//
//   length          varint   bytes after this field
//   attributes      int8     unused, 0
//   timestampDelta  varlong  from the batch's base_timestamp
//   offsetDelta     varint   from the batch's base_offset
//   keyLength       varint   -1 = null key
//   key             bytes
//   valueLength     varint   -1 = null value
//   value           bytes
//   headerCount     varint
//   headers         (keyLength varint >= 0, key, valueLength varint (-1 = null), value)*
//
// Every record is checked in full (framing, lengths, header count, that `length`
// accounts for exactly its bytes) before next() returns it, so reading its headers
// afterwards cannot fail. Once records_count records are read, leftover bytes are an
// error, as in Kafka ("Incorrect declared batch size").
//
// The iterator does not check the batch CRC: validate_batch does, on the hot path,
// before anything iterates. Bad input of any kind ends iteration with an error; it
// never reads out of bounds and never allocates more than the caller's limit.
//
// Lifetime: views returned by next() point into the batch (uncompressed) or into the
// caller's scratch vector (compressed); both must outlive their use, and the scratch
// vector must not be touched while the iterator is in use.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/records/batch_header.h"
#include "protocol/records/batch_validate.h"
#include "protocol/records/errc.h"

namespace strata::records {

using bytes_view = std::span<const uint8_t>;
using nullable_bytes = std::optional<bytes_view>;

inline bytes_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(bytes_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct record_header {
  bytes_view key;  // a UTF-8 string in Kafka; never null
  nullable_bytes value;
};

// The headers of one record: a lazily decoded, already validated range.
class record_headers {
 public:
  class iterator {
   public:
    using value_type = record_header;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    const record_header& operator*() const { return cur_; }
    const record_header* operator->() const { return &cur_; }
    iterator& operator++();
    iterator operator++(int) { iterator t = *this; ++*this; return t; }
    bool operator==(const iterator& o) const { return left_ == o.left_; }

   private:
    friend class record_headers;
    iterator(const uint8_t* p, const uint8_t* end, int32_t count);
    void decode();
    const uint8_t* p_ = nullptr;
    const uint8_t* end_ = nullptr;
    int32_t left_ = 0;  // headers not yet consumed, the current one included
    record_header cur_;
  };

  record_headers() = default;
  record_headers(const uint8_t* p, const uint8_t* end, int32_t count)
      : p_(p), end_(end), count_(count) {}
  int32_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  iterator begin() const { return iterator(p_, end_, count_); }
  iterator end() const { return iterator(); }

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int32_t count_ = 0;
};

struct record {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  nullable_bytes key;
  nullable_bytes value;
  record_headers headers;
  bytes_view raw;  // the whole record, its length varint included
};

struct iterate_options {
  // Most bytes a compressed payload may decompress to.
  size_t max_uncompressed_bytes = 64u << 20;
};

class record_iterator {
 public:
  // `batch` holds exactly one batch (12 + batch_length bytes; validate_batch first).
  // When the batch is compressed its payload is decompressed into `scratch`, whose
  // previous contents are discarded (its capacity is reused).
  record_iterator(bytes_view batch, std::vector<uint8_t>& scratch,
                  const iterate_options& opts = {});

  // Reads the next record into `out`. Returns false at the end of the batch or on an
  // error; then error() tells which.
  bool next(record& out);

  errc error() const { return error_; }
  bool ok() const { return error_ == errc::ok; }
  // The record bytes next() has not read yet (all of them before the first call;
  // decompressed for a compressed batch).
  bytes_view unread() const { return bytes_view(p_, size_t(end_ - p_)); }
  int32_t records_read() const { return read_; }

  // The header of the batch being iterated (valid only when the batch holds at
  // least 61 bytes, i.e. unless error() is truncated/batch_too_small).
  batch_header_view header() const { return batch_header_view(batch_.data()); }
  // The record payload: the batch's bytes after the header, or their decompressed form.
  bytes_view payload() const { return {p_begin_, size_t(end_ - p_begin_)}; }

  // Kafka's absolute values for a record of this batch (wrapping, as Java's longs do).
  int64_t offset_of(const record& r) const {
    return int64_t(uint64_t(header().base_offset()) + uint64_t(int64_t(r.offset_delta)));
  }
  int64_t timestamp_of(const record& r) const {
    return header().is_log_append_time()
               ? header().max_timestamp()
               : int64_t(uint64_t(header().base_timestamp()) + uint64_t(r.timestamp_delta));
  }

 private:
  bool fail(errc e) {
    error_ = e;
    p_ = end_;
    return false;
  }

  bytes_view batch_;
  const uint8_t* p_begin_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int32_t count_ = 0;
  int32_t read_ = 0;
  errc error_ = errc::ok;
};

// Reads every record of one batch and checks what only a full read can: framing, and
// records_count matching the records present. Offset deltas must be strictly
// increasing within [0, last_offset_delta]; in client mode they must be exactly
// 0, 1, 2, ... (Kafka's LogValidator, "inner record has invalid offset").
// `scratch` as for record_iterator.
// With keys_required (a compacted topic), a record without a key is errc::missing_key.
errc validate_records(bytes_view batch, std::vector<uint8_t>& scratch,
                      validate_mode mode = validate_mode::client,
                      const iterate_options& opts = {}, bool keys_required = false);

}  // namespace strata::records
