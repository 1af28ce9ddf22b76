#include "protocol/records/record_iterator.h"

#include "protocol/records/codecs.h"
#include "protocol/records/varint.h"

namespace strata::records {
namespace {

// Stands in for the header of a batch too short to have one, so header() stays safe.
constexpr uint8_t kZeroHeader[kBatchHeaderSize] = {};

// Reads a length-prefixed byte field. Kafka reads any negative length as null
// (DefaultRecord.readFrom: "if (keySize >= 0)"), and so do we.
bool read_nullable(const uint8_t*& p, const uint8_t* end, nullable_bytes& out) {
  int32_t len;
  if (!detail::read_varint(p, end, len)) return false;
  if (len < 0) {
    out.reset();
    return true;
  }
  if (len > end - p) return false;
  out = bytes_view(p, size_t(len));
  p += len;
  return true;
}

// Reads one header; header keys may not be null ("Invalid negative header key size").
bool read_header(const uint8_t*& p, const uint8_t* end, record_header& out) {
  int32_t klen;
  if (!detail::read_varint(p, end, klen) || klen < 0 || klen > end - p) return false;
  out.key = bytes_view(p, size_t(klen));
  p += klen;
  return read_nullable(p, end, out.value);
}

}  // namespace

record_headers::iterator::iterator(const uint8_t* p, const uint8_t* end, int32_t count)
    : p_(p), end_(end), left_(count) {
  if (left_ > 0) decode();
}

record_headers::iterator& record_headers::iterator::operator++() {
  if (left_ > 0 && --left_ > 0) decode();
  return *this;
}

void record_headers::iterator::decode() {
  // The record was validated before it was handed out; failing here means the bytes
  // changed underneath us. End the range rather than read out of bounds.
  if (!read_header(p_, end_, cur_)) left_ = 0;
}

record_iterator::record_iterator(bytes_view batch, std::vector<uint8_t>& scratch,
                                 const iterate_options& opts)
    : batch_(kZeroHeader, sizeof kZeroHeader) {
  if (batch.size() < kBatchHeaderSize) {
    fail(errc::truncated);
    return;
  }
  const batch_header_view h(batch.data());
  if (h.batch_length() < kMinBatchLength) {
    fail(errc::batch_too_small);
    return;
  }
  const size_t size = kLogOverhead + size_t(h.batch_length());
  if (size > batch.size()) {
    fail(errc::truncated);
    return;
  }
  batch_ = batch.first(size);  // anything after the first batch is not ours
  if (h.magic() != kMagicV2) {
    fail(errc::unsupported_magic);
    return;
  }
  if (uint8_t(h.codec()) > uint8_t(compression::zstd)) {
    fail(errc::unsupported_compression);
    return;
  }
  count_ = h.records_count();
  if (count_ < 0) {
    fail(errc::invalid_record_count);
    return;
  }
  const bytes_view body = batch_.subspan(kBatchHeaderSize);
  if (h.codec() == compression::none) {
    p_begin_ = body.data();
    end_ = body.data() + body.size();
  } else {
    scratch.clear();
    if (errc e = decompress(h.codec(), body, scratch, opts.max_uncompressed_bytes);
        e != errc::ok) {
      fail(e);
      return;
    }
    p_begin_ = scratch.data();
    end_ = scratch.data() + scratch.size();
  }
  p_ = p_begin_;
}

bool record_iterator::next(record& out) {
  if (error_ != errc::ok) return false;
  if (read_ == count_) {
    // Kafka: "Incorrect declared batch size, records still remaining in file".
    if (p_ != end_) return fail(errc::invalid_record);
    return false;
  }
  const uint8_t* start = p_;
  int32_t len;
  if (!detail::read_varint(p_, end_, len) || len < 0 || len > end_ - p_)
    return fail(errc::invalid_record);
  const uint8_t* rend = p_ + len;
  const uint8_t* q = p_;

  if (q == rend) return fail(errc::invalid_record);
  out.attributes = int8_t(*q++);
  if (!detail::read_varlong(q, rend, out.timestamp_delta)) return fail(errc::invalid_record);
  if (!detail::read_varint(q, rend, out.offset_delta)) return fail(errc::invalid_record);
  if (!read_nullable(q, rend, out.key)) return fail(errc::invalid_record);
  if (!read_nullable(q, rend, out.value)) return fail(errc::invalid_record);
  int32_t header_count;
  if (!detail::read_varint(q, rend, header_count) || header_count < 0 ||
      header_count > (rend - q) / 2)  // each header takes two length bytes at least
    return fail(errc::invalid_record);
  const uint8_t* headers_start = q;
  record_header h;
  for (int32_t i = 0; i < header_count; ++i)
    if (!read_header(q, rend, h)) return fail(errc::invalid_record);
  // The length must account for exactly the fields read (Kafka: "Invalid record size").
  if (q != rend) return fail(errc::invalid_record);

  out.headers = record_headers(headers_start, rend, header_count);
  out.raw = bytes_view(start, size_t(rend - start));
  p_ = rend;
  ++read_;
  return true;
}

namespace {

bool skip_nullable(const uint8_t*& p, const uint8_t* end) {
  int32_t len;
  if (!detail::read_varint(p, end, len)) return false;
  if (len < 0) return true;
  if (len > end - p) return false;
  p += len;
  return true;
}

// Checks the framing of `count` records in [p, end) exactly as record_iterator::next
// reads them, without decoding what is not checked (the produce path runs this on
// every record it accepts; it is a tight loop instead of a walk with the iterator).
errc check_records(const uint8_t* p, const uint8_t* end, int32_t count, int32_t last_offset_delta,
                   validate_mode mode, bool keys_required) {
  int64_t prev = -1;
  for (int32_t i = 0; i < count; ++i) {
    int32_t len;
    if (!detail::read_varint(p, end, len) || len <= 0 || len > end - p) return errc::invalid_record;
    const uint8_t* const rend = p + len;
    const uint8_t* q = p + 1;  // attributes
    int32_t offset_delta;
    int32_t key_len;
    int32_t header_count;
    if (!detail::skip_varlong(q, rend) || !detail::read_varint(q, rend, offset_delta) ||
        !detail::read_varint(q, rend, key_len) || key_len > rend - q)
      return errc::invalid_record;
    if (key_len >= 0) q += key_len;
    else if (keys_required) return errc::missing_key;
    if (!skip_nullable(q, rend) || !detail::read_varint(q, rend, header_count) || header_count < 0 ||
        header_count > (rend - q) / 2)
      return errc::invalid_record;
    for (int32_t h = 0; h < header_count; ++h) {
      int32_t klen;
      if (!detail::read_varint(q, rend, klen) || klen < 0 || klen > rend - q) return errc::invalid_record;
      q += klen;
      if (!skip_nullable(q, rend)) return errc::invalid_record;
    }
    if (q != rend) return errc::invalid_record;
    if (offset_delta <= prev || offset_delta > last_offset_delta) return errc::invalid_record;
    if (mode == validate_mode::client && offset_delta != i) return errc::invalid_record;
    prev = offset_delta;
    p = rend;
  }
  // Kafka: "Incorrect declared batch size, records still remaining in file".
  return p == end ? errc::ok : errc::invalid_record;
}

}  // namespace

errc validate_records(bytes_view batch, std::vector<uint8_t>& scratch, validate_mode mode,
                      const iterate_options& opts, bool keys_required) {
  const record_iterator it(batch, scratch, opts);
  if (!it.ok()) return it.error();
  const int32_t last_offset_delta = it.header().last_offset_delta();
  if (last_offset_delta < 0) return errc::invalid_offset_range;
  const int32_t count = it.header().records_count();
  if (mode == validate_mode::client && int64_t(count) != int64_t(last_offset_delta) + 1)
    return errc::invalid_record_count;
  const bytes_view body = it.unread();
  return check_records(body.data(), body.data() + body.size(), count, last_offset_delta, mode, keys_required);
}

}  // namespace strata::records
