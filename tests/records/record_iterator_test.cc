#include "protocol/records/record_iterator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/records/batch_builder.h"
#include "protocol/records/codecs.h"
#include "utils/test_util.h"

namespace strata::records {
namespace {

using test::bytes;
using test::put_varint;

std::string str(const nullable_bytes& b) { return b ? std::string(as_string_view(*b)) : "<null>"; }

class iterate_codec : public ::testing::TestWithParam<compression> {};

TEST_P(iterate_codec, every_field_round_trips) {
  const bytes big(100000, 'z');
  const record_header h1[] = {{as_bytes("trace"), as_bytes("abc")}, {as_bytes("n"), std::nullopt}};
  batch_options o;
  o.codec = GetParam();
  o.base_offset = 1000;
  batch_builder b(o);
  b.add(50, as_bytes("k0"), as_bytes("v0"), h1);
  b.add(40, std::nullopt, as_bytes(""));          // null key, empty (non-null) value
  b.add(70, as_bytes(""), std::nullopt);           // empty key, null value (tombstone)
  b.add(60, as_bytes("big"), bytes_view(big));
  bytes batch;
  ASSERT_EQ(b.finish(batch), errc::ok);

  std::vector<uint8_t> scratch;
  record_iterator it(batch, scratch);
  ASSERT_TRUE(it.ok()) << to_string(it.error());
  record r;

  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(r.offset_delta, 0);
  EXPECT_EQ(it.offset_of(r), 1000);
  EXPECT_EQ(it.timestamp_of(r), 50);
  EXPECT_EQ(r.timestamp_delta, 0);
  EXPECT_EQ(str(r.key), "k0");
  EXPECT_EQ(str(r.value), "v0");
  ASSERT_EQ(r.headers.size(), 2);
  std::vector<std::pair<std::string, std::string>> hs;
  for (const record_header& h : r.headers) hs.emplace_back(as_string_view(h.key), str(h.value));
  EXPECT_EQ(hs, (std::vector<std::pair<std::string, std::string>>{{"trace", "abc"},
                                                                   {"n", "<null>"}}));

  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(it.offset_of(r), 1001);
  EXPECT_EQ(it.timestamp_of(r), 40);
  EXPECT_EQ(r.timestamp_delta, -10);
  EXPECT_FALSE(r.key.has_value());
  ASSERT_TRUE(r.value.has_value());
  EXPECT_TRUE(r.value->empty());
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(r.headers.begin(), r.headers.end());

  ASSERT_TRUE(it.next(r));
  ASSERT_TRUE(r.key.has_value());
  EXPECT_TRUE(r.key->empty());
  EXPECT_FALSE(r.value.has_value());

  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(r.value->size(), big.size());
  EXPECT_TRUE(std::equal(big.begin(), big.end(), r.value->begin()));
  EXPECT_EQ(it.offset_of(r), 1003);

  EXPECT_FALSE(it.next(r));
  EXPECT_TRUE(it.ok());
  EXPECT_EQ(it.records_read(), 4);
  EXPECT_FALSE(it.next(r)) << "stays at the end";

  EXPECT_EQ(validate_records(batch, scratch), errc::ok);
}

TEST_P(iterate_codec, decompression_limit) {
  bytes batch = test::simple_batch(1000, GetParam());
  std::vector<uint8_t> scratch;
  iterate_options o;
  o.max_uncompressed_bytes = 100;
  record_iterator it(batch, scratch, o);
  if (GetParam() == compression::none) {
    EXPECT_TRUE(it.ok()) << "the limit is about decompression only";
    return;
  }
  EXPECT_EQ(it.error(), errc::decompressed_too_large);
  record r;
  EXPECT_FALSE(it.next(r));
}

INSTANTIATE_TEST_SUITE_P(all, iterate_codec, ::testing::ValuesIn(test::kAllCodecs),
                         [](const auto& info) { return test::codec_name(info.param); });

TEST(record_iterator, scratch_is_reused_across_batches) {
  std::vector<uint8_t> scratch;
  for (int n : {10, 500, 3}) {
    bytes batch = test::simple_batch(n, compression::zstd);
    record_iterator it(batch, scratch);
    record r;
    int count = 0;
    while (it.next(r)) {
      EXPECT_EQ(str(r.value), "value-" + std::to_string(count));
      ++count;
    }
    EXPECT_TRUE(it.ok());
    EXPECT_EQ(count, n);
    EXPECT_EQ(it.payload().data(), scratch.data());
  }
}

TEST(record_iterator, log_append_time_takes_max_timestamp) {
  batch_options o;
  o.log_append_time = 999999;
  bytes batch;
  ASSERT_EQ(build_batch(o, std::vector<record_data>{{10, {}, as_bytes("a"), {}}}, batch), errc::ok);
  std::vector<uint8_t> scratch;
  record_iterator it(batch, scratch);
  record r;
  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(it.timestamp_of(r), 999999);
}

// ---- hand-made records -----------------------------------------------------------

// One record body (everything after the length varint).
bytes body(int64_t ts_delta, int32_t offset_delta, int32_t key_len, int32_t value_len,
           int32_t header_count, const bytes& tail = {}) {
  bytes b = {0};
  put_varint(b, ts_delta);
  put_varint(b, offset_delta);
  put_varint(b, key_len);
  b.insert(b.end(), size_t(std::max(key_len, 0)), 'k');
  put_varint(b, value_len);
  b.insert(b.end(), size_t(std::max(value_len, 0)), 'v');
  put_varint(b, header_count);
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

bytes framed(const bytes& body, int64_t claimed_len = -2) {
  bytes r;
  put_varint(r, claimed_len == -2 ? int64_t(body.size()) : claimed_len);
  r.insert(r.end(), body.begin(), body.end());
  return r;
}

errc iterate_all(const bytes& payload, int32_t count, int* read = nullptr) {
  test::raw_batch rb;
  rb.records_count = count;
  rb.last_offset_delta = std::max(count - 1, 0);
  bytes batch = rb.build(payload);
  std::vector<uint8_t> scratch;
  record_iterator it(batch, scratch);
  record r;
  int n = 0;
  while (it.next(r)) {
    ++n;
    for (const record_header& h : r.headers) (void)h;  // headers never fail after next()
  }
  if (read) *read = n;
  return it.error();
}

TEST(record_iterator, well_formed_hand_made) {
  bytes header = {};
  put_varint(header, 2);
  header.insert(header.end(), {'h', 'k'});
  put_varint(header, 1);
  header.push_back('x');
  bytes p = framed(body(0, 0, 3, 4, 1, header));
  int read = 0;
  EXPECT_EQ(iterate_all(p, 1, &read), errc::ok);
  EXPECT_EQ(read, 1);
}

TEST(record_iterator, count_must_match_the_records) {
  bytes one = framed(body(0, 0, 1, 1, 0));
  bytes two = one;
  two.insert(two.end(), one.begin(), one.end());
  int read = 0;
  EXPECT_EQ(iterate_all(two, 3, &read), errc::invalid_record) << "fewer records than claimed";
  EXPECT_EQ(read, 2);
  EXPECT_EQ(iterate_all(two, 1, &read), errc::invalid_record) << "bytes left after the last";
  EXPECT_EQ(read, 1);
  EXPECT_EQ(iterate_all({}, 0), errc::ok);
}

TEST(record_iterator, bad_framing) {
  const bytes good = body(0, 0, 1, 1, 0);
  EXPECT_EQ(iterate_all(framed(good, int64_t(good.size()) + 1), 1), errc::invalid_record)
      << "length past the end";
  EXPECT_EQ(iterate_all(framed(good, -1), 1), errc::invalid_record) << "negative length";
  bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(iterate_all(framed(longer), 1), errc::invalid_record) << "length beyond the fields";
  bytes shorter(good.begin(), good.end() - 1);
  EXPECT_EQ(iterate_all(framed(shorter), 1), errc::invalid_record) << "fields beyond the length";
  bytes long_key = {0, 0, 0};  // attributes, timestamp delta, offset delta
  put_varint(long_key, 1000);   // key length, with one byte of key behind it
  long_key.push_back('k');
  put_varint(long_key, -1);
  put_varint(long_key, 0);
  EXPECT_EQ(iterate_all(framed(long_key), 1), errc::invalid_record)
      << "key longer than the record";
  EXPECT_EQ(iterate_all(framed(body(0, 0, 1, 1, -1)), 1), errc::invalid_record)
      << "negative header count";
  EXPECT_EQ(iterate_all(framed(body(0, 0, 1, 1, 1000000)), 1), errc::invalid_record)
      << "header count larger than the bytes";
  bytes neg_key_header;
  put_varint(neg_key_header, -1);
  put_varint(neg_key_header, 0);
  EXPECT_EQ(iterate_all(framed(body(0, 0, 1, 1, 1, neg_key_header)), 1), errc::invalid_record)
      << "null header key";
  EXPECT_EQ(iterate_all(framed(bytes{}), 1), errc::invalid_record) << "empty record";
  EXPECT_EQ(iterate_all(bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1), errc::invalid_record)
      << "six-byte varint";
}

TEST(record_iterator, negative_lengths_other_than_minus_one_read_as_null) {
  // Kafka's DefaultRecord.readFrom: "if (keySize >= 0)". Lenient, like Kafka.
  bytes p = framed(body(0, 0, -7, -2, 0));
  test::raw_batch rb;
  bytes batch = rb.build(p);
  std::vector<uint8_t> scratch;
  record_iterator it(batch, scratch);
  record r;
  ASSERT_TRUE(it.next(r));
  EXPECT_FALSE(r.key.has_value());
  EXPECT_FALSE(r.value.has_value());
}

TEST(record_iterator, batch_level_errors_do_not_crash) {
  std::vector<uint8_t> scratch;
  record r;
  bytes good = test::simple_batch(2);
  {
    const bytes_view cut = bytes_view(good).first(30);
    record_iterator it(cut, scratch);
    EXPECT_EQ(it.error(), errc::truncated);
    EXPECT_FALSE(it.next(r));
    EXPECT_EQ(it.header().magic(), 0) << "header() is safe on a short batch";
  }
  {
    const bytes_view cut = bytes_view(good).first(good.size() - 1);
    record_iterator it(cut, scratch);
    EXPECT_EQ(it.error(), errc::truncated);
  }
  {
    bytes c = good;
    c[off::magic] = 1;
    EXPECT_EQ(record_iterator(c, scratch).error(), errc::unsupported_magic);
  }
  {
    test::raw_batch rb;
    rb.attributes = 6;
    EXPECT_EQ(record_iterator(rb.build({1}), scratch).error(), errc::unsupported_compression);
    rb.attributes = int16_t(compression::gzip);
    EXPECT_EQ(record_iterator(rb.build({1, 2, 3}), scratch).error(), errc::decompression_failed);
    rb.attributes = 0;
    rb.records_count = -5;
    EXPECT_EQ(record_iterator(rb.build({}), scratch).error(), errc::invalid_record_count);
  }
  {
    bytes c = good;
    store_be32(c.data() + off::batch_length, uint32_t(-3));
    EXPECT_EQ(record_iterator(c, scratch).error(), errc::batch_too_small);
  }
  {
    // Two batches given: only the first is iterated.
    bytes two = good;
    two.insert(two.end(), good.begin(), good.end());
    record_iterator it(two, scratch);
    int n = 0;
    while (it.next(r)) ++n;
    EXPECT_TRUE(it.ok());
    EXPECT_EQ(n, 2);
  }
}

TEST(validate_records, offset_deltas) {
  auto batch_with_deltas = [](std::vector<int32_t> deltas, int32_t last_offset_delta) {
    bytes p;
    for (int32_t d : deltas) {
      bytes rec = framed(body(0, d, 1, 1, 0));
      p.insert(p.end(), rec.begin(), rec.end());
    }
    test::raw_batch rb;
    rb.records_count = int32_t(deltas.size());
    rb.last_offset_delta = last_offset_delta;
    return rb.build(p);
  };
  std::vector<uint8_t> scratch;
  const auto log = validate_mode::log;
  EXPECT_EQ(validate_records(batch_with_deltas({0, 1, 2}, 2), scratch), errc::ok);
  EXPECT_EQ(validate_records(batch_with_deltas({0, 2, 3}, 3), scratch),
            errc::invalid_record_count);
  EXPECT_EQ(validate_records(batch_with_deltas({0, 2, 3}, 3), scratch, log), errc::ok)
      << "compacted: gaps are fine in the log";
  EXPECT_EQ(validate_records(batch_with_deltas({1, 2, 3}, 2), scratch), errc::invalid_record);
  EXPECT_EQ(validate_records(batch_with_deltas({0, 2, 1}, 2), scratch, log),
            errc::invalid_record);
  EXPECT_EQ(validate_records(batch_with_deltas({0, 0}, 1), scratch, log), errc::invalid_record);
  EXPECT_EQ(validate_records(batch_with_deltas({0, 5}, 4), scratch, log), errc::invalid_record);
  EXPECT_EQ(validate_records(batch_with_deltas({}, 7), scratch, log), errc::ok);
}

}  // namespace
}  // namespace strata::records
