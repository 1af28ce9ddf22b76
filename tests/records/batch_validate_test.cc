#include "protocol/records/batch_validate.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "protocol/records/batch_builder.h"
#include "utils/test_util.h"

namespace strata::records {
namespace {

using test::bytes;

validate_options log_mode() {
  validate_options o;
  o.mode = validate_mode::log;
  return o;
}

bytes idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, int n, int64_t ts) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  batch_builder b(o);
  for (int i = 0; i < n; ++i) b.add(ts + i, std::nullopt, as_bytes("v"));
  bytes out;
  EXPECT_EQ(b.finish(out), errc::ok);
  return out;
}

TEST(batch_validate, single_batch_fields) {
  bytes b = idempotent_batch(77, 2, 10, 3, 5000);
  std::vector<batch_info> seen;
  validate_result r = validate_batches(b, {}, [&](const batch_info& i) { seen.push_back(i); });
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.valid_bytes, b.size());
  EXPECT_EQ(r.batch_count, 1u);
  EXPECT_EQ(r.record_count, 3);
  EXPECT_EQ(r.offset_count, 3);
  EXPECT_EQ(r.first_timestamp, 5000);
  EXPECT_EQ(r.last_timestamp, 5002);
  EXPECT_EQ(r.max_timestamp, 5002);
  EXPECT_EQ(r.offset_delta_of_max_timestamp, 2);
  EXPECT_FALSE(r.partial_tail);
  ASSERT_EQ(seen.size(), 1u);
  const batch_info& i = seen[0];
  EXPECT_EQ(i.position, 0u);
  EXPECT_EQ(i.size, b.size());
  EXPECT_EQ(i.producer_id, 77);
  EXPECT_EQ(i.producer_epoch, 2);
  EXPECT_EQ(i.base_sequence, 10);
  EXPECT_EQ(i.last_sequence(), 12);
  EXPECT_EQ(i.records_count, 3);
  EXPECT_EQ(i.last_offset_delta, 2);
  EXPECT_EQ(i.codec(), compression::none);
  EXPECT_TRUE(i.has_producer_id());
}

TEST(batch_validate, several_batches) {
  bytes buf = idempotent_batch(1, 0, 0, 2, 100);      // max ts 101
  bytes b2 = idempotent_batch(1, 0, 2, 3, 500);       // max ts 502
  bytes b3 = test::simple_batch(4, compression::gzip, 200);  // max ts 203
  buf.insert(buf.end(), b2.begin(), b2.end());
  buf.insert(buf.end(), b3.begin(), b3.end());
  std::vector<size_t> positions;
  validate_result r =
      validate_batches(buf, {}, [&](const batch_info& i) { positions.push_back(i.position); });
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.batch_count, 3u);
  EXPECT_EQ(r.record_count, 9);
  EXPECT_EQ(r.offset_count, 9);
  EXPECT_EQ(r.first_timestamp, 100);
  EXPECT_EQ(r.last_timestamp, 203);
  EXPECT_EQ(r.max_timestamp, 502);
  EXPECT_EQ(r.offset_delta_of_max_timestamp, 4);  // 2 offsets before, last delta 2
  EXPECT_TRUE(r.any_compressed);
  const size_t p2 = buf.size() - b3.size() - b2.size(), p3 = buf.size() - b3.size();
  EXPECT_EQ(positions, (std::vector<size_t>{0, p2, p3}));
}

TEST(batch_validate, empty_buffer_is_no_batches) {
  validate_result r = validate_batches({});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.batch_count, 0u);
  EXPECT_EQ(r.max_timestamp, kNoTimestamp);
  EXPECT_EQ(r.offset_delta_of_max_timestamp, -1);
}

TEST(batch_validate, crc_covers_attributes_to_end_only) {
  bytes b = test::simple_batch(3);
  for (size_t i = kCrcStart; i < b.size(); ++i) {
    bytes c = b;
    c[i] ^= 0x01;
    EXPECT_EQ(validate_batches(c).error, errc::crc_mismatch) << "byte " << i;
  }
  // base_offset and partition_leader_epoch are outside the CRC: the broker stamps them.
  bytes c = b;
  batch_header_mut(c.data()).set_base_offset(123456);
  batch_header_mut(c.data()).set_partition_leader_epoch(9);
  EXPECT_TRUE(validate_batches(c).ok());
  // So is the crc field itself: corrupting it is a mismatch.
  c[off::crc] ^= 0xff;
  EXPECT_EQ(validate_batches(c).error, errc::crc_mismatch);
}

TEST(batch_validate, bad_magic) {
  for (int magic : {0, 1, 3, -1}) {
    bytes b = test::simple_batch(1);
    b[off::magic] = uint8_t(magic);  // not under the CRC
    EXPECT_EQ(validate_batches(b).error, errc::unsupported_magic) << magic;
  }
}

TEST(batch_validate, truncated_everywhere) {
  bytes b = test::simple_batch(5);
  for (size_t n = 1; n < b.size(); ++n) {
    validate_result r = validate_batches(std::span(b).first(n));
    EXPECT_EQ(r.error, errc::truncated) << "n=" << n;
    EXPECT_EQ(r.valid_bytes, 0u);
    validate_options o;
    o.allow_partial_tail = true;
    r = validate_batches(std::span(b).first(n), o);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.partial_tail);
    EXPECT_EQ(r.batch_count, 0u);
  }
}

TEST(batch_validate, partial_tail_after_good_batches) {
  bytes buf = test::simple_batch(2);
  const size_t first = buf.size();
  bytes second = test::simple_batch(3);
  buf.insert(buf.end(), second.begin(), second.end() - 10);
  validate_result r = validate_batches(buf);
  EXPECT_EQ(r.error, errc::truncated);
  EXPECT_EQ(r.valid_bytes, first);
  EXPECT_EQ(r.batch_count, 1u);
  validate_options o;
  o.allow_partial_tail = true;
  r = validate_batches(buf, o);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.partial_tail);
  EXPECT_EQ(r.valid_bytes, first);
}

TEST(batch_validate, length_overflow_and_negative_lengths) {
  bytes b = test::simple_batch(2);
  for (int32_t len : {std::numeric_limits<int32_t>::max(), int32_t(b.size()), 1 << 30}) {
    bytes c = b;
    store_be32(c.data() + off::batch_length, uint32_t(len));
    EXPECT_EQ(validate_batches(c).error, errc::truncated) << len;
  }
  for (int32_t len : {-1, std::numeric_limits<int32_t>::min(), 0, 14, 48}) {
    bytes c = b;
    store_be32(c.data() + off::batch_length, uint32_t(len));
    EXPECT_EQ(validate_batches(c).error, errc::batch_too_small) << len;
  }
  // Too short for the header itself.
  EXPECT_EQ(validate_batches(std::span(b).first(11)).error, errc::truncated);
}

TEST(batch_validate, max_batch_size) {
  bytes b = test::simple_batch(10);
  validate_options o;
  o.max_batch_size = b.size();
  EXPECT_TRUE(validate_batches(b, o).ok());
  o.max_batch_size = b.size() - 1;
  EXPECT_EQ(validate_batches(b, o).error, errc::batch_too_large);
}

TEST(batch_validate, unknown_codec) {
  for (int16_t codec : {5, 6, 7}) {
    test::raw_batch rb;
    rb.attributes = codec;
    EXPECT_EQ(validate_batches(rb.build({1, 2, 3})).error, errc::unsupported_compression);
  }
}

TEST(batch_validate, record_count_rules) {
  test::raw_batch rb;
  rb.records_count = -1;
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::invalid_record_count);
  EXPECT_EQ(validate_batches(rb.build({}), log_mode()).error, errc::invalid_record_count);

  rb.records_count = 3;
  rb.last_offset_delta = -1;
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::invalid_offset_range);

  // From a client: count == last_offset_delta + 1, and not zero.
  rb.last_offset_delta = 4;
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::invalid_record_count);
  // In a log: compaction leaves fewer records than offsets, even none.
  EXPECT_TRUE(validate_batches(rb.build({}), log_mode()).ok());
  rb.records_count = 0;
  rb.last_offset_delta = 0;
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::invalid_record_count);
  validate_result r = validate_batches(rb.build({}), log_mode());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.record_count, 0);
  EXPECT_EQ(r.offset_count, 1);
  // More records than offsets is wrong anywhere.
  rb.records_count = 6;
  rb.last_offset_delta = 4;
  EXPECT_EQ(validate_batches(rb.build({}), log_mode()).error, errc::invalid_record_count);
  // The largest range: no overflow in count == delta + 1.
  rb.records_count = std::numeric_limits<int32_t>::max();
  rb.last_offset_delta = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::invalid_record_count);
  rb.last_offset_delta = std::numeric_limits<int32_t>::max() - 1;
  EXPECT_TRUE(validate_batches(rb.build({})).ok());  // header-only: records not read
}

TEST(batch_validate, control_batches_only_from_the_log) {
  test::raw_batch rb;
  rb.attributes = kAttrControl | kAttrTransactional;
  rb.producer_id = 5;
  rb.base_sequence = 0;
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::control_batch_from_client);
  validate_result r = validate_batches(rb.build({}), log_mode());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.any_control);
  EXPECT_TRUE(r.any_transactional);
}

TEST(batch_validate, producer_id_needs_a_sequence) {
  test::raw_batch rb;
  rb.producer_id = 12;
  rb.base_sequence = -1;
  EXPECT_EQ(validate_batches(rb.build({})).error, errc::invalid_sequence);
  EXPECT_TRUE(validate_batches(rb.build({}), log_mode()).ok());
  rb.producer_id = -1;
  EXPECT_TRUE(validate_batches(rb.build({})).ok());
}

TEST(batch_validate, stops_at_first_bad_batch) {
  bytes buf = test::simple_batch(2);
  const size_t first = buf.size();
  bytes bad = test::simple_batch(2);
  bad.back() ^= 1;
  buf.insert(buf.end(), bad.begin(), bad.end());
  bytes third = test::simple_batch(1);
  buf.insert(buf.end(), third.begin(), third.end());
  int calls = 0;
  validate_result r = validate_batches(buf, {}, [&](const batch_info&) { ++calls; });
  EXPECT_EQ(r.error, errc::crc_mismatch);
  EXPECT_EQ(r.valid_bytes, first);
  EXPECT_EQ(r.batch_count, 1u);
  EXPECT_EQ(calls, 1);
}

TEST(batch_validate, last_sequence_wraps_like_kafka) {
  batch_info i;
  i.base_sequence = std::numeric_limits<int32_t>::max() - 1;
  i.last_offset_delta = 3;
  EXPECT_EQ(i.last_sequence(), 1);  // MAX-1, MAX, 0, 1
  i.base_sequence = kNoSequence;
  EXPECT_EQ(i.last_sequence(), kNoSequence);
}

TEST(batch_validate, errc_is_an_error_code) {
  std::error_code ec = errc::crc_mismatch;
  EXPECT_EQ(ec.category().name(), std::string("strata.records"));
  EXPECT_EQ(ec.message(), "record batch CRC mismatch");
  EXPECT_FALSE(std::error_code(errc::ok));
}

}  // namespace
}  // namespace strata::records
