// Fuzz-ish robustness: every truncation and many random corruptions of valid batches
// must end in an error value, never a crash, an out-of-bounds read (run under ASan) or
// an allocation past the limit.
#include <gtest/gtest.h>

#include <vector>

#include "fixtures/kafka_python_batches.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_validate.h"
#include "protocol/records/record_iterator.h"
#include "utils/test_util.h"

namespace strata::records {
namespace {

using test::bytes;

constexpr size_t kLimit = 1 << 20;

std::vector<bytes> corpus() {
  std::vector<bytes> c;
  c.push_back(test::from_hex(fixtures::kKafkaPythonPlain));
  c.push_back(test::from_hex(fixtures::kKafkaPythonGzip));
  const record_header hs[] = {{as_bytes("a"), as_bytes("1")}, {as_bytes("b"), std::nullopt}};
  for (compression codec : test::kAllCodecs) {
    batch_options o;
    o.codec = codec;
    batch_builder b(o);
    for (int i = 0; i < 20; ++i)
      b.add(1000 + i, i % 3 ? nullable_bytes(as_bytes("key")) : std::nullopt,
            as_bytes("some value that compresses some value that compresses"), hs);
    bytes out;
    EXPECT_EQ(b.finish(out), errc::ok);
    c.push_back(std::move(out));
  }
  return c;
}

// Reads everything reachable; returns the number of records seen.
int exercise(std::span<const uint8_t> buf, std::vector<uint8_t>& scratch) {
  int records = 0;
  for (validate_mode mode : {validate_mode::client, validate_mode::log}) {
    validate_options o;
    o.mode = mode;
    o.allow_partial_tail = true;
    validate_batches(buf, o, [&](const batch_info& info) {
      record_iterator it(buf.subspan(info.position, info.size), scratch,
                         iterate_options{kLimit});
      record r;
      while (it.next(r)) {
        ++records;
        for (const record_header& h : r.headers) records += int(h.key.size() > 1 << 30);
      }
      (void)validate_records(buf.subspan(info.position, info.size), scratch, mode,
                             iterate_options{kLimit});
    });
  }
  // The iterator alone, on bytes nobody validated.
  record_iterator it(buf, scratch, iterate_options{kLimit});
  record r;
  while (it.next(r)) ++records;
  return records;
}

TEST(robustness, every_truncation) {
  std::vector<uint8_t> scratch;
  for (const bytes& b : corpus()) {
    for (size_t n = 1; n < b.size(); ++n) {
      std::span<const uint8_t> cut = std::span(b).first(n);
      validate_result r = validate_batches(cut);
      ASSERT_NE(r.error, errc::ok) << "n=" << n;
      exercise(cut, scratch);
      // Even with the CRC made right for the cut length, the reader stays in bounds.
      if (n >= kBatchHeaderSize) {
        bytes fixed(cut.begin(), cut.end());
        store_be32(fixed.data() + off::batch_length, uint32_t(n - kLogOverhead));
        update_batch_crc(fixed);
        exercise(fixed, scratch);
      }
    }
    EXPECT_TRUE(validate_batches(b).ok());
  }
}

TEST(robustness, random_byte_flips) {
  auto rng = test::seeded_rng();
  std::vector<uint8_t> scratch;
  for (const bytes& b : corpus()) {
    for (int iter = 0; iter < 3000; ++iter) {
      bytes c = b;
      const int flips = 1 + int(rng() % 4);
      for (int f = 0; f < flips; ++f) c[rng() % c.size()] ^= uint8_t(1 + rng() % 255);
      // Half the time, repair the CRC so the corruption reaches the record parser and
      // the decompressors.
      if (iter % 2 && c.size() >= kBatchHeaderSize &&
          load_be32(c.data() + off::batch_length) == load_be32(b.data() + off::batch_length))
        update_batch_crc(c);
      exercise(c, scratch);
    }
  }
}

TEST(robustness, random_garbage_with_valid_headers) {
  auto rng = test::seeded_rng();
  std::vector<uint8_t> scratch;
  for (int iter = 0; iter < 3000; ++iter) {
    test::raw_batch rb;
    rb.attributes = int16_t(rng() % 5);
    rb.records_count = int32_t(rng() % 50);
    rb.last_offset_delta = rb.records_count - 1;
    bytes payload = test::random_bytes(rng, rng() % 400);
    exercise(rb.build(payload), scratch);
  }
}

TEST(robustness, concatenated_batches_with_a_bad_one_inside) {
  const std::vector<bytes> c = corpus();
  bytes all;
  for (const bytes& b : c) all.insert(all.end(), b.begin(), b.end());
  validate_result r = validate_batches(all);
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.batch_count, c.size());
  std::vector<uint8_t> scratch;
  EXPECT_GT(exercise(all, scratch), 100);

  bytes bad = all;
  const size_t third = c[0].size() + c[1].size();
  bad[third + 30] ^= 0xff;
  r = validate_batches(bad);
  EXPECT_EQ(r.error, errc::crc_mismatch);
  EXPECT_EQ(r.valid_bytes, third);
  EXPECT_EQ(r.batch_count, 2u);
}

}  // namespace
}  // namespace strata::records
