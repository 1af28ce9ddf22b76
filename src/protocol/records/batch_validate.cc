#include "protocol/records/batch_validate.h"

#include <limits>

#include "base/crc32c.h"

namespace strata::records {

int32_t batch_info::last_sequence() const {
  if (base_sequence == kNoSequence) return kNoSequence;
  constexpr int32_t max = std::numeric_limits<int32_t>::max();
  if (base_sequence > max - last_offset_delta) return last_offset_delta - (max - base_sequence) - 1;
  return base_sequence + last_offset_delta;
}

uint32_t compute_batch_crc(std::span<const uint8_t> batch) {
  return base::crc32c(batch.data() + kCrcStart, batch.size() - kCrcStart);
}

errc validate_batch(std::span<const uint8_t> buf, const validate_options& opts, batch_info& info) {
  info = batch_info{};
  if (buf.size() < kLogOverhead) return errc::truncated;
  const int32_t batch_length = int32_t(load_be32(buf.data() + off::batch_length));
  if (batch_length < kMinBatchLength) return errc::batch_too_small;
  const size_t size = kLogOverhead + size_t(batch_length);
  info.size = size;
  if (opts.max_batch_size != 0 && size > opts.max_batch_size) return errc::batch_too_large;
  if (buf.size() < size) return errc::truncated;

  const batch_header_view h(buf.data());
  if (h.magic() != kMagicV2) return errc::unsupported_magic;
  if (h.crc() != compute_batch_crc(buf.first(size))) return errc::crc_mismatch;

  info.base_offset = h.base_offset();
  info.partition_leader_epoch = h.partition_leader_epoch();
  info.attributes = h.attributes();
  info.last_offset_delta = h.last_offset_delta();
  info.base_timestamp = h.base_timestamp();
  info.max_timestamp = h.max_timestamp();
  info.producer_id = h.producer_id();
  info.producer_epoch = h.producer_epoch();
  info.base_sequence = h.base_sequence();
  info.records_count = h.records_count();

  if (uint8_t(info.attributes & kAttrCompressionMask) > uint8_t(compression::zstd))
    return errc::unsupported_compression;
  if (info.last_offset_delta < 0) return errc::invalid_offset_range;
  if (info.records_count < 0) return errc::invalid_record_count;
  // Kafka computes lastOffset - baseOffset + 1 in a long: no overflow here.
  const int64_t offsets = int64_t(info.last_offset_delta) + 1;
  if (opts.mode == validate_mode::client) {
    if (info.records_count == 0 || info.records_count != offsets) return errc::invalid_record_count;
    if (info.is_control()) return errc::control_batch_from_client;
    if (info.has_producer_id() && info.base_sequence < 0) return errc::invalid_sequence;
  } else if (info.records_count > offsets) {
    return errc::invalid_record_count;
  }
  return errc::ok;
}

namespace detail {

void accumulate(validate_result& r, const batch_info& b) {
  if (r.batch_count == 0) r.first_timestamp = b.base_timestamp;
  r.last_timestamp = b.max_timestamp;
  if (r.batch_count == 0 || b.max_timestamp > r.max_timestamp) {
    r.max_timestamp = b.max_timestamp;
    r.offset_delta_of_max_timestamp = r.offset_count + b.last_offset_delta;
  }
  ++r.batch_count;
  r.record_count += b.records_count;
  r.offset_count += int64_t(b.last_offset_delta) + 1;
  r.any_compressed |= b.codec() != compression::none;
  r.any_transactional |= b.is_transactional();
  r.any_control |= b.is_control();
}

}  // namespace detail

validate_result validate_batches(std::span<const uint8_t> buf, const validate_options& opts) {
  return validate_batches(buf, opts, [](const batch_info&) {});
}

}  // namespace strata::records
