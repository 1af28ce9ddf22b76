// Batches written by a real client library (kafka-python), validated and read by us;
// and our builder reproducing a client's batch byte for byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/crc32c.h"
#include "fixtures/kafka_python_batches.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_validate.h"
#include "protocol/records/record_iterator.h"
#include "utils/test_util.h"

namespace strata::records {
namespace {

using test::bytes;

std::string str(const nullable_bytes& b) { return b ? std::string(as_string_view(*b)) : "<null>"; }

TEST(kafka_python_fixture, plain_batch_validates_and_iterates) {
  const bytes batch = test::from_hex(fixtures::kKafkaPythonPlain);
  ASSERT_EQ(batch.size(), 126u);
  EXPECT_EQ(base::crc32c(batch.data() + kCrcStart, batch.size() - kCrcStart), 0xE1D37A86u);

  std::vector<batch_info> infos;
  validate_result r = validate_batches(batch, {}, [&](const batch_info& i) { infos.push_back(i); });
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(infos.size(), 1u);
  const batch_info& i = infos[0];
  EXPECT_EQ(i.producer_id, 4242);
  EXPECT_EQ(i.producer_epoch, 3);
  EXPECT_EQ(i.base_sequence, 17);
  EXPECT_EQ(i.last_sequence(), 19);
  EXPECT_EQ(i.records_count, 3);
  EXPECT_EQ(i.codec(), compression::none);
  EXPECT_EQ(i.base_timestamp, 1700000000000);
  EXPECT_EQ(i.max_timestamp, 1700000000005);
  EXPECT_EQ(r.offset_delta_of_max_timestamp, 2);  // batch-level, as Kafka v2

  std::vector<uint8_t> scratch;
  EXPECT_EQ(validate_records(batch, scratch), errc::ok);
  record_iterator it(batch, scratch);
  record rec;
  ASSERT_TRUE(it.next(rec));
  EXPECT_EQ(str(rec.key), "key-0");
  EXPECT_EQ(str(rec.value), "value-0");
  EXPECT_EQ(it.timestamp_of(rec), 1700000000000);
  std::vector<std::pair<std::string, std::string>> hs;
  for (const record_header& h : rec.headers) hs.emplace_back(as_string_view(h.key), str(h.value));
  EXPECT_EQ(hs, (std::vector<std::pair<std::string, std::string>>{{"h1", "v1"}, {"h2", "<null>"}}));

  ASSERT_TRUE(it.next(rec));
  EXPECT_EQ(str(rec.key), "<null>");
  EXPECT_EQ(str(rec.value), "value-1");
  EXPECT_EQ(it.offset_of(rec), 1);
  EXPECT_EQ(it.timestamp_of(rec), 1700000000005);

  ASSERT_TRUE(it.next(rec));
  EXPECT_EQ(str(rec.key), "key-2");
  EXPECT_EQ(str(rec.value), "<null>");
  EXPECT_EQ(it.timestamp_of(rec), 1700000000003);
  ASSERT_EQ(rec.headers.size(), 1);
  EXPECT_EQ(as_string_view(rec.headers.begin()->key), "trace");
  EXPECT_EQ(str(rec.headers.begin()->value), std::string("\0\1\2", 3));

  EXPECT_FALSE(it.next(rec));
  EXPECT_TRUE(it.ok());
}

TEST(kafka_python_fixture, gzip_transactional_batch) {
  const bytes batch = test::from_hex(fixtures::kKafkaPythonGzip);
  std::vector<batch_info> infos;
  validate_result r = validate_batches(batch, {}, [&](const batch_info& i) { infos.push_back(i); });
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].codec(), compression::gzip);
  EXPECT_TRUE(infos[0].is_transactional());
  EXPECT_EQ(infos[0].producer_id, 7);
  EXPECT_EQ(infos[0].base_sequence, 0);
  EXPECT_EQ(r.record_count, 5);
  EXPECT_TRUE(r.any_transactional);

  std::vector<uint8_t> scratch;
  EXPECT_EQ(validate_records(batch, scratch), errc::ok);
  record_iterator it(batch, scratch);
  record rec;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(it.next(rec)) << to_string(it.error());
    std::string v;
    for (int k = 0; k < 4; ++k) v += "hello gzip world " + std::to_string(i) + " ";
    EXPECT_EQ(str(rec.key), "k" + std::to_string(i));
    EXPECT_EQ(str(rec.value), v);
    EXPECT_EQ(it.timestamp_of(rec), 1700000001000 + i);
    EXPECT_EQ(it.offset_of(rec), i);
  }
  EXPECT_FALSE(it.next(rec));
  EXPECT_TRUE(it.ok());
}

TEST(kafka_python_fixture, our_builder_reproduces_the_plain_batch_byte_for_byte) {
  batch_options o;
  o.partition_leader_epoch = 0;  // kafka-python leaves it 0; the broker stamps it
  o.producer_id = 4242;
  o.producer_epoch = 3;
  o.base_sequence = 17;
  const std::string trace("\0\1\2", 3);
  const record_header h0[] = {{as_bytes("h1"), as_bytes("v1")}, {as_bytes("h2"), std::nullopt}};
  const record_header h2[] = {{as_bytes("trace"), as_bytes(trace)}};
  batch_builder b(o);
  b.add(1700000000000, as_bytes("key-0"), as_bytes("value-0"), h0);
  b.add(1700000000005, std::nullopt, as_bytes("value-1"));
  b.add(1700000000003, as_bytes("key-2"), std::nullopt, h2);
  bytes ours;
  ASSERT_EQ(b.finish(ours), errc::ok);
  EXPECT_EQ(ours, test::from_hex(fixtures::kKafkaPythonPlain));
}

}  // namespace
}  // namespace strata::records
