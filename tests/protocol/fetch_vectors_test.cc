// Fetch request/response byte vectors written by hand from the schemas
// (FetchRequest.json, FetchResponse.json), at v4 and at v12 (first flexible).
#include <gtest/gtest.h>

#include "protocol/generated/fetch.h"
#include "test_util.h"

namespace strata::protocol {
namespace {

using test::decode_all;
using test::encode;
using test::from_hex;
using test::to_hex;

const bytes kRecords = {1, 2, 3, 4};

fetch_request sample_request() {
  fetch_request r;
  r.max_wait_ms = 500;
  r.min_bytes = 1;
  r.max_bytes = 1 << 20;
  auto& t = r.topics.emplace_back();
  t.topic = "t";
  auto& p = t.partitions.emplace_back();
  p.fetch_offset = 100;
  p.partition_max_bytes = 1 << 20;
  return r;
}

TEST(fetch_vectors, request_v4) {
  const bytes wire = from_hex(
      "ffffffff"                // replica_id -1 (a consumer)
      "000001f4"                // max_wait_ms 500
      "00000001"                // min_bytes 1
      "00100000"                // max_bytes 1 MiB (v3+)
      "01"                      // isolation_level READ_COMMITTED (v4+)
      "00000001"                // topics: 1
      "  0001 74"               //   topic "t" (v0-12)
      "  00000001"              //   partitions: 1
      "    00000000"            //     partition 0
      "    0000000000000064"    //     fetch_offset 100
      "    00100000");          //     partition_max_bytes 1 MiB
  auto m = decode_all<fetch_request>(wire, 4);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->replica_id, -1);
  EXPECT_EQ(m->isolation_level, 1);
  EXPECT_EQ(m->topics[0].topic, "t");
  EXPECT_EQ(m->topics[0].partitions[0].fetch_offset, 100);

  fetch_request r = sample_request();
  r.isolation_level = 1;
  EXPECT_EQ(to_hex(encode(r, 4)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(fetch_vectors, request_v12_with_tagged_cluster_id) {
  const bytes wire = from_hex(
      "ffffffff 000001f4 00000001 00100000"  // replica_id, max_wait, min_bytes, max_bytes
      "00"                      // isolation_level READ_UNCOMMITTED
      "00000000"                // session_id 0 (v7+)
      "ffffffff"                // session_epoch -1 (v7+)
      "02"                      // topics: compact count 1
      "  02 74"                 //   topic "t"
      "  02"                    //   partitions: 1
      "    00000000"            //     partition 0
      "    ffffffff"            //     current_leader_epoch -1 (v9+)
      "    0000000000000064"    //     fetch_offset 100
      "    ffffffff"            //     last_fetched_epoch -1 (v12+)
      "    ffffffffffffffff"    //     log_start_offset -1 (v5+)
      "    00100000"            //     partition_max_bytes
      "    00"                  //     no tagged fields
      "  00"                    //   no tagged fields
      "01"                      // forgotten_topics_data: [] (v7+)
      "01"                      // rack_id "" (v11+)
      "01"                      // one tagged field:
      "00 02 0263");            //   tag 0 cluster_id "c", 2 bytes
  auto m = decode_all<fetch_request>(wire, 12);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cluster_id, "c");
  EXPECT_EQ(m->session_epoch, -1);
  EXPECT_EQ(m->topics[0].partitions[0].last_fetched_epoch, -1);
  EXPECT_TRUE(m->forgotten_topics_data.empty());

  fetch_request r = sample_request();
  r.cluster_id = "c";
  EXPECT_EQ(to_hex(encode(r, 12)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

fetch_response sample_response() {
  fetch_response r;
  auto& t = r.responses.emplace_back();
  t.topic = "t";
  auto& p = t.partitions.emplace_back();
  p.high_watermark = 200;
  p.last_stable_offset = 200;
  p.records = records::copy_of(kRecords);
  return r;
}

TEST(fetch_vectors, response_v4) {
  const bytes wire = from_hex(
      "00000000"                // throttle_time_ms (v1+)
      "00000001"                // responses: 1
      "  0001 74"               //   topic "t"
      "  00000001"              //   partitions: 1
      "    00000000 0000"       //     partition_index 0, error_code NONE
      "    00000000000000c8"    //     high_watermark 200
      "    00000000000000c8"    //     last_stable_offset 200 (v4+)
      "    ffffffff"            //     aborted_transactions: null (v4+)
      "    00000004 01020304"); //     records: 4 bytes
  auto m = decode_all<fetch_response>(wire, 4);
  ASSERT_TRUE(m);
  const auto& p = m->responses[0].partitions[0];
  EXPECT_EQ(p.high_watermark, 200);
  EXPECT_FALSE(p.aborted_transactions.has_value());
  EXPECT_EQ(bytes(p.records.memory.begin(), p.records.memory.end()), kRecords);

  fetch_response r = sample_response();
  r.responses[0].partitions[0].aborted_transactions.reset();
  EXPECT_EQ(to_hex(encode(r, 4)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(fetch_vectors, response_v12_with_tagged_current_leader) {
  const bytes wire = from_hex(
      "00000000"                // throttle_time_ms
      "0000"                    // error_code (v7+)
      "00000000"                // session_id (v7+)
      "02"                      // responses: 1
      "  02 74"                 //   topic "t"
      "  02"                    //   partitions: 1
      "    00000000 0000"       //     partition_index 0, error_code NONE
      "    00000000000000c8"    //     high_watermark 200
      "    00000000000000c8"    //     last_stable_offset 200
      "    0000000000000000"    //     log_start_offset 0 (v5+)
      "    02"                  //     aborted_transactions: 1
      "      0000000000000007"  //       producer_id 7
      "      0000000000000064"  //       first_offset 100
      "      00"                //       no tagged fields
      "    ffffffff"            //     preferred_read_replica -1 (v11+)
      "    05 01020304"         //     records: compact length 4 + 1
      "    01"                  //     one tagged field:
      "    01 09 00000002 00000005 00"  // tag 1 current_leader: leader 2, epoch 5
      "  00"                    //   no tagged fields
      "00");                    // no tagged fields
  auto m = decode_all<fetch_response>(wire, 12);
  ASSERT_TRUE(m);
  const auto& p = m->responses[0].partitions[0];
  ASSERT_TRUE(p.aborted_transactions.has_value());
  EXPECT_EQ((*p.aborted_transactions)[0].first_offset, 100);
  EXPECT_EQ(p.current_leader.leader_id, 2);
  EXPECT_EQ(p.current_leader.leader_epoch, 5);
  EXPECT_EQ(p.diverging_epoch.epoch, -1);  // tag 0 absent: default

  fetch_response r = sample_response();
  auto& rp = r.responses[0].partitions[0];
  rp.log_start_offset = 0;
  rp.aborted_transactions.emplace().push_back({7, 100});
  rp.current_leader = {2, 5};
  EXPECT_EQ(to_hex(encode(r, 12)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(fetch_vectors, unknown_tags_are_skipped) {
  // forgotten_topics_data and rack_id as above, then two tagged fields:
  // tag 7 (unknown, 3 bytes) and tag 0 cluster_id.
  const bytes wire = from_hex(
      "ffffffff 000001f4 00000001 00100000 00 00000000 ffffffff"
      "01"              // topics: []
      "01 01"           // forgotten_topics_data [], rack_id ""
      "02"              // two tagged fields
      "00 02 0263"      //   tag 0 cluster_id "c"
      "07 03 aabbcc");  //   tag 7: unknown, skipped
  auto m = decode_all<fetch_request>(wire, 12);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cluster_id, "c");
}

TEST(fetch_vectors, tagged_field_with_wrong_size_fails) {
  const bytes wire = from_hex(
      "ffffffff 000001f4 00000001 00100000 00 00000000 ffffffff 01 01 01"
      "01 00 03 0263 ff");  // cluster_id claims 3 bytes but the string takes 2
  EXPECT_FALSE(decode_all<fetch_request>(wire, 12));
}

}  // namespace
}  // namespace strata::protocol
