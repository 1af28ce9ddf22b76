#include "protocol/records/batch_builder.h"

#include <limits>

#include "protocol/records/batch_validate.h"
#include "protocol/records/varint.h"

namespace strata::records {
namespace {

constexpr size_t kMaxField = size_t(std::numeric_limits<int32_t>::max());

size_t nullable_size(const nullable_bytes& b) {
  return b ? detail::varint_size(int32_t(b->size())) + b->size() : 1;
}

void write_nullable(std::vector<uint8_t>& out, const nullable_bytes& b) {
  if (!b) {
    detail::write_varint(out, -1);
    return;
  }
  detail::write_varint(out, int32_t(b->size()));
  out.insert(out.end(), b->begin(), b->end());
}

bool fits(const nullable_bytes& b) { return !b || b->size() <= kMaxField; }

}  // namespace

void batch_builder::add(const record_data& r) {
  add_at(last_delta_ == std::numeric_limits<int32_t>::max() ? last_delta_ : last_delta_ + 1, r);
}

void batch_builder::add_at(int32_t offset_delta, const record_data& r) {
  if (error_ != errc::ok) return;
  if (offset_delta <= last_delta_ || count_ == std::numeric_limits<int32_t>::max() ||
      !fits(r.key) || !fits(r.value) || r.headers.size() > kMaxField) {
    error_ = errc::invalid_record;
    return;
  }
  if (count_ == 0) base_timestamp_ = r.timestamp;
  if (r.timestamp > max_timestamp_) max_timestamp_ = r.timestamp;
  // Wrapping subtraction: Kafka stores the delta as a varlong whatever its size.
  const int64_t ts_delta = int64_t(uint64_t(r.timestamp) - uint64_t(base_timestamp_));

  size_t body = 1 + detail::varlong_size(ts_delta) + detail::varint_size(offset_delta) +
                nullable_size(r.key) + nullable_size(r.value) +
                detail::varint_size(int32_t(r.headers.size()));
  for (const record_header& h : r.headers) {
    if (h.key.size() > kMaxField || !fits(h.value)) {
      error_ = errc::invalid_record;
      return;
    }
    body += detail::varint_size(int32_t(h.key.size())) + h.key.size() + nullable_size(h.value);
  }
  if (body > kMaxField) {
    error_ = errc::invalid_record;
    return;
  }

  records_.reserve(records_.size() + body + 5);
  detail::write_varint(records_, int32_t(body));
  records_.push_back(0);  // attributes
  detail::write_varlong(records_, ts_delta);
  detail::write_varint(records_, offset_delta);
  write_nullable(records_, r.key);
  write_nullable(records_, r.value);
  detail::write_varint(records_, int32_t(r.headers.size()));
  for (const record_header& h : r.headers) {
    detail::write_varint(records_, int32_t(h.key.size()));
    records_.insert(records_.end(), h.key.begin(), h.key.end());
    write_nullable(records_, h.value);
  }
  last_delta_ = offset_delta;
  ++count_;
}

errc batch_builder::finish(std::vector<uint8_t>& out) {
  if (error_ != errc::ok) return error_;
  int32_t last_offset_delta = last_delta_ < 0 ? 0 : last_delta_;
  if (opts_.last_offset_delta) {
    if (*opts_.last_offset_delta < last_delta_ || *opts_.last_offset_delta < 0)
      return errc::invalid_offset_range;
    last_offset_delta = *opts_.last_offset_delta;
  }

  const size_t start = out.size();
  out.resize(start + kBatchHeaderSize);
  if (errc e = compress(opts_.codec, records_, out, opts_.compress); e != errc::ok) {
    out.resize(start);
    return e;
  }
  const size_t size = out.size() - start;
  if (size - kLogOverhead > kMaxField) {
    out.resize(start);
    return errc::batch_too_large;
  }

  int16_t attributes = int16_t(uint8_t(opts_.codec) & kAttrCompressionMask);
  if (opts_.log_append_time) attributes |= kAttrLogAppendTime;
  if (opts_.transactional) attributes |= kAttrTransactional;
  if (opts_.control) attributes |= kAttrControl;
  const int64_t max_timestamp = opts_.log_append_time ? *opts_.log_append_time : max_timestamp_;

  uint8_t* p = out.data() + start;
  store_be64(p + off::base_offset, uint64_t(opts_.base_offset));
  store_be32(p + off::batch_length, uint32_t(size - kLogOverhead));
  store_be32(p + off::partition_leader_epoch, uint32_t(opts_.partition_leader_epoch));
  p[off::magic] = uint8_t(kMagicV2);
  store_be16(p + off::attributes, uint16_t(attributes));
  store_be32(p + off::last_offset_delta, uint32_t(last_offset_delta));
  store_be64(p + off::base_timestamp, uint64_t(base_timestamp_));
  store_be64(p + off::max_timestamp, uint64_t(max_timestamp));
  store_be64(p + off::producer_id, uint64_t(opts_.producer_id));
  store_be16(p + off::producer_epoch, uint16_t(opts_.producer_epoch));
  store_be32(p + off::base_sequence, uint32_t(opts_.base_sequence));
  store_be32(p + off::records_count, uint32_t(count_));
  update_batch_crc({p, size});
  return errc::ok;
}

void batch_builder::reset(const batch_options& opts) {
  opts_ = opts;
  records_.clear();
  count_ = 0;
  last_delta_ = -1;
  base_timestamp_ = kNoTimestamp;
  max_timestamp_ = kNoTimestamp;
  error_ = errc::ok;
}

errc build_batch(const batch_options& opts, std::span<const record_data> records,
                 std::vector<uint8_t>& out) {
  batch_builder b(opts);
  for (const record_data& r : records) b.add(r);
  return b.finish(out);
}

void update_batch_crc(std::span<uint8_t> batch) {
  batch_header_mut(batch.data()).set_crc(compute_batch_crc(batch));
}

errc stamp_log_append_time(std::span<uint8_t> buf, int64_t timestamp) {
  size_t pos = 0;
  while (pos < buf.size()) {
    if (buf.size() - pos < kBatchHeaderSize) return errc::truncated;
    uint8_t* p = buf.data() + pos;
    const int32_t batch_length = int32_t(load_be32(p + off::batch_length));
    if (batch_length < kMinBatchLength) return errc::batch_too_small;
    const size_t size = kLogOverhead + size_t(batch_length);
    if (size > buf.size() - pos) return errc::truncated;
    batch_header_mut h(p);
    h.set_attributes(int16_t(h.view().attributes() | kAttrLogAppendTime));
    h.set_max_timestamp(timestamp);
    update_batch_crc({p, size});
    pos += size;
  }
  return errc::ok;
}

}  // namespace strata::records
