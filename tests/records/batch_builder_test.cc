#include "protocol/records/batch_builder.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "protocol/records/batch_validate.h"
#include "protocol/records/record_iterator.h"
#include "utils/test_util.h"

namespace strata::records {
namespace {

using test::bytes;

class build_codec : public ::testing::TestWithParam<compression> {};

TEST_P(build_codec, header_fields_and_validity) {
  batch_options o;
  o.codec = GetParam();
  o.base_offset = 42;
  o.partition_leader_epoch = 7;
  o.producer_id = 9000;
  o.producer_epoch = 4;
  o.base_sequence = 100;
  o.transactional = true;
  batch_builder b(o);
  b.add(5000, as_bytes("a"), as_bytes("1"));
  b.add(4000, as_bytes("b"), as_bytes("2"));
  b.add(6000, as_bytes("c"), as_bytes("3"));
  EXPECT_EQ(b.record_count(), 3);
  bytes out = {0xAA};  // finish appends
  ASSERT_EQ(b.finish(out), errc::ok);
  ASSERT_EQ(out[0], 0xAA);
  std::span<const uint8_t> batch = std::span(out).subspan(1);

  batch_header_view h(batch.data());
  EXPECT_EQ(h.base_offset(), 42);
  EXPECT_EQ(h.total_size(), int64_t(batch.size()));
  EXPECT_EQ(h.partition_leader_epoch(), 7);
  EXPECT_EQ(h.magic(), 2);
  EXPECT_EQ(h.codec(), GetParam());
  EXPECT_TRUE(h.is_transactional());
  EXPECT_FALSE(h.is_control());
  EXPECT_FALSE(h.is_log_append_time());
  EXPECT_EQ(h.last_offset_delta(), 2);
  EXPECT_EQ(h.last_offset(), 44);
  EXPECT_EQ(h.base_timestamp(), 5000);  // the first record's, as Kafka's builder
  EXPECT_EQ(h.max_timestamp(), 6000);
  EXPECT_EQ(h.producer_id(), 9000);
  EXPECT_EQ(h.producer_epoch(), 4);
  EXPECT_EQ(h.base_sequence(), 100);
  EXPECT_EQ(h.records_count(), 3);
  EXPECT_EQ(h.crc(), compute_batch_crc(batch));

  validate_result r = validate_batches(batch);
  EXPECT_TRUE(r.ok()) << to_string(r.error);
  std::vector<uint8_t> scratch;
  EXPECT_EQ(validate_records(batch, scratch), errc::ok);
}

TEST_P(build_codec, many_records_and_reuse) {
  auto rng = test::seeded_rng();
  batch_options o;
  o.codec = GetParam();
  batch_builder b(o);
  for (int round = 0; round < 2; ++round) {
    std::vector<bytes> values;
    for (int i = 0; i < 2000; ++i) {
      values.push_back(test::text_bytes(rng, rng() % 300));
      b.add(int64_t(rng() % 1000000), std::nullopt, bytes_view(values.back()));
    }
    bytes out;
    ASSERT_EQ(b.finish(out), errc::ok);
    ASSERT_TRUE(validate_batches(out).ok());
    std::vector<uint8_t> scratch;
    record_iterator it(out, scratch);
    record r;
    size_t i = 0;
    while (it.next(r)) {
      ASSERT_TRUE(r.value.has_value());
      ASSERT_TRUE(std::equal(r.value->begin(), r.value->end(), values[i].begin(),
                             values[i].end()));
      ++i;
    }
    EXPECT_TRUE(it.ok());
    EXPECT_EQ(i, values.size());
    b.reset(o);
  }
}

INSTANTIATE_TEST_SUITE_P(all, build_codec, ::testing::ValuesIn(test::kAllCodecs),
                         [](const auto& info) { return test::codec_name(info.param); });

TEST(batch_builder, empty_batch_is_a_log_batch) {
  batch_options o;
  o.last_offset_delta = 9;  // what compaction leaves of a 10-offset batch
  o.producer_id = 3;
  o.base_sequence = 0;
  batch_builder b(o);
  bytes out;
  ASSERT_EQ(b.finish(out), errc::ok);
  EXPECT_EQ(out.size(), kBatchHeaderSize);
  batch_header_view h(out.data());
  EXPECT_EQ(h.records_count(), 0);
  EXPECT_EQ(h.last_offset_delta(), 9);
  EXPECT_EQ(h.base_timestamp(), kNoTimestamp);
  EXPECT_EQ(h.max_timestamp(), kNoTimestamp);
  validate_options lo;
  lo.mode = validate_mode::log;
  EXPECT_TRUE(validate_batches(out, lo).ok());
  EXPECT_EQ(validate_batches(out).error, errc::invalid_record_count);
}

TEST(batch_builder, explicit_offset_deltas) {
  batch_options o;
  o.last_offset_delta = 10;
  batch_builder b(o);
  b.add_at(2, {1, as_bytes("k"), as_bytes("v"), {}});
  b.add_at(7, {2, as_bytes("k"), as_bytes("v"), {}});
  bytes out;
  ASSERT_EQ(b.finish(out), errc::ok);
  std::vector<uint8_t> scratch;
  EXPECT_EQ(validate_records(out, scratch, validate_mode::log), errc::ok);
  record_iterator it(out, scratch);
  record r;
  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(r.offset_delta, 2);
  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(r.offset_delta, 7);

  batch_builder bad;
  bad.add_at(5, {1, {}, {}, {}});
  bad.add_at(5, {1, {}, {}, {}});
  out.clear();
  EXPECT_EQ(bad.finish(out), errc::invalid_record);
  EXPECT_TRUE(out.empty());

  batch_options low;
  low.last_offset_delta = 0;
  batch_builder b2(low);
  b2.add(1, {}, {});
  b2.add(1, {}, {});
  EXPECT_EQ(b2.finish(out), errc::invalid_offset_range);
}

TEST(batch_builder, control_and_log_append_time_flags) {
  batch_options o;
  o.control = true;
  o.transactional = true;
  o.log_append_time = 123456;
  batch_builder b(o);
  // A transaction marker's shape: key (version, type), value (version, coordinator epoch).
  b.add(1, as_bytes(std::string_view("\0\0\0\1", 4)),
        as_bytes(std::string_view("\0\0\0\0\0\5", 6)));
  bytes out;
  ASSERT_EQ(b.finish(out), errc::ok);
  batch_header_view h(out.data());
  EXPECT_TRUE(h.is_control());
  EXPECT_TRUE(h.is_transactional());
  EXPECT_TRUE(h.is_log_append_time());
  EXPECT_EQ(h.max_timestamp(), 123456);
  EXPECT_EQ(h.base_timestamp(), 1);
}

TEST(batch_builder, extreme_timestamps_wrap_like_java) {
  batch_builder b;
  b.add(std::numeric_limits<int64_t>::min(), {}, {});
  b.add(std::numeric_limits<int64_t>::max(), {}, {});
  bytes out;
  ASSERT_EQ(b.finish(out), errc::ok);
  std::vector<uint8_t> scratch;
  record_iterator it(out, scratch);
  record r;
  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(it.timestamp_of(r), std::numeric_limits<int64_t>::min());
  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(it.timestamp_of(r), std::numeric_limits<int64_t>::max());
}

TEST(stamp_log_append_time, sets_bit_max_timestamp_and_crc) {
  bytes buf = test::simple_batch(3, compression::none, 100);
  bytes second = test::simple_batch(2, compression::lz4, 200);
  buf.insert(buf.end(), second.begin(), second.end());
  batch_header_mut(buf.data()).set_base_offset(77);
  const bytes before = buf;

  ASSERT_EQ(stamp_log_append_time(buf, 5555), errc::ok);
  validate_result r = validate_batches(buf);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.batch_count, 2u);
  EXPECT_EQ(r.max_timestamp, 5555);
  for (size_t pos : {size_t(0), buf.size() - second.size()}) {
    batch_header_view h(buf.data() + pos);
    EXPECT_TRUE(h.is_log_append_time());
    EXPECT_EQ(h.max_timestamp(), 5555);
    EXPECT_EQ(h.base_timestamp(), batch_header_view(before.data() + pos).base_timestamp());
  }
  EXPECT_EQ(batch_header_view(buf.data()).base_offset(), 77);
  // Records untouched.
  const size_t first = buf.size() - second.size();
  EXPECT_TRUE(std::equal(buf.begin() + kBatchHeaderSize, buf.begin() + first,
                         before.begin() + kBatchHeaderSize));
  EXPECT_TRUE(std::equal(buf.begin() + first + kBatchHeaderSize, buf.end(),
                         before.begin() + first + kBatchHeaderSize));
  std::vector<uint8_t> scratch;
  record_iterator it(buf, scratch);
  record rec;
  ASSERT_TRUE(it.next(rec));
  EXPECT_EQ(it.timestamp_of(rec), 5555);

  bytes cut(buf.begin(), buf.end() - 1);
  EXPECT_EQ(stamp_log_append_time(cut, 1), errc::truncated);
}

}  // namespace
}  // namespace strata::records
