// Byte vectors written by hand from the protocol guide and the JSON schemas
// (not produced by our encoder), each at a classic and a flexible version.
// Every vector is decoded and compared field by field, and the same message
// built by hand must encode to exactly these bytes.
#include <string_view>

#include <gtest/gtest.h>

#include "protocol/generated/messages.h"
#include "test_util.h"

namespace strata::protocol {
namespace {

using test::decode_all;
using test::encode;
using test::from_hex;
using test::to_hex;

const bytes kRecords = {1, 2, 3, 4};  // stands in for a record batch: opaque here

// ---- ApiVersions (bodies; frames are in frame_test.cc) ----

TEST(vectors, api_versions_response_v0) {
  const bytes wire = from_hex(
      "0000"                      // error_code NONE
      "00000002"                  // api_keys: int32 count 2
      "0000 0000 000b"            //   Produce 0-11
      "0012 0000 0004");          //   ApiVersions 0-4
  auto m = decode_all<api_versions_response>(wire, 0);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->api_keys.size(), 2u);
  EXPECT_EQ(m->api_keys[1].api_key, 18);
  EXPECT_EQ(m->api_keys[1].max_version, 4);

  api_versions_response r;
  r.api_keys = {{0, 0, 11}, {18, 0, 4}};
  EXPECT_EQ(to_hex(encode(r, 0)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(vectors, api_versions_response_v3_with_tagged_fields) {
  const bytes wire = from_hex(
      "0000"                      // error_code
      "03"                        // api_keys: compact count 2 (+1)
      "0000 0000 000b 00"         //   Produce 0-11, no tagged fields
      "0012 0000 0004 00"         //   ApiVersions 0-4
      "00000000"                  // throttle_time_ms
      "02"                        // two tagged fields, by tag
      "00 08"                     //   tag 0 SupportedFeatures, 8 bytes:
      "  02 0278 0001 0002 00"    //     one entry: name "x", min 1, max 2, no tags
      "01 08 0000000000000005");  //   tag 1 FinalizedFeaturesEpoch = 5
  auto m = decode_all<api_versions_response>(wire, 3);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->supported_features.size(), 1u);
  EXPECT_EQ(m->supported_features[0].name, "x");
  EXPECT_EQ(m->supported_features[0].max_version, 2);
  EXPECT_EQ(m->finalized_features_epoch, 5);
  EXPECT_TRUE(m->finalized_features.empty());
  EXPECT_FALSE(m->zk_migration_ready);

  api_versions_response r;
  r.api_keys = {{0, 0, 11}, {18, 0, 4}};
  r.supported_features = {{"x", 1, 2}};
  r.finalized_features_epoch = 5;
  EXPECT_EQ(to_hex(encode(r, 3)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(vectors, api_versions_request_v3) {
  const bytes wire = from_hex(
      "05 6b636174"   // client_software_name "kcat" (compact: length + 1)
      "04 312e37"     // client_software_version "1.7"
      "00");          // no tagged fields
  auto m = decode_all<api_versions_request>(wire, 3);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->client_software_name, "kcat");
  EXPECT_EQ(m->client_software_version, "1.7");
  EXPECT_TRUE(decode_all<api_versions_request>({}, 0));  // v0 has no body
}

// ---- Metadata ----

TEST(vectors, metadata_request_v0) {
  const bytes wire = from_hex("00000001 0001 74");  // topics: ["t"]
  auto m = decode_all<metadata_request>(wire, 0);
  ASSERT_TRUE(m && m->topics);
  ASSERT_EQ(m->topics->size(), 1u);
  EXPECT_EQ((*m->topics)[0].name, "t");

  metadata_request r;
  r.topics.emplace().emplace_back().name = "t";
  EXPECT_EQ(to_hex(encode(r, 0)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(vectors, metadata_request_v9) {
  const bytes wire = from_hex(
      "02"        // topics: compact count 1
      "  02 74"   //   name "t"
      "  00"      //   no tagged fields
      "01"        // allow_auto_topic_creation (v4+)
      "00"        // include_cluster_authorized_operations (v8-10)
      "00"        // include_topic_authorized_operations (v8+)
      "00");      // no tagged fields
  auto m = decode_all<metadata_request>(wire, 9);
  ASSERT_TRUE(m && m->topics);
  EXPECT_EQ((*m->topics)[0].name, "t");
  EXPECT_TRUE(m->allow_auto_topic_creation);

  metadata_request r;
  r.topics.emplace().emplace_back().name = "t";
  r.allow_auto_topic_creation = true;
  EXPECT_EQ(to_hex(encode(r, 9)), to_hex(wire));
  EXPECT_TRUE(*m == r);
  // A null topic list (all topics) is a zero compact length.
  r.topics.reset();
  EXPECT_EQ(to_hex(encode(r, 9)), "0001000000");
}

metadata_response sample_metadata() {
  metadata_response r;
  r.brokers.push_back({1, "localhost", 9092, std::nullopt});
  auto& t = r.topics.emplace_back();
  t.name = "t";
  auto& p = t.partitions.emplace_back();
  p.leader_id = 1;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  return r;
}

TEST(vectors, metadata_response_v0) {
  const bytes wire = from_hex(
      "00000001"                  // brokers: 1
      "  00000001"                //   node_id 1
      "  0009 6c6f63616c686f7374" //   host "localhost"
      "  00002384"                //   port 9092
      "00000001"                  // topics: 1
      "  0000"                    //   error_code
      "  0001 74"                 //   name "t"
      "  00000001"                //   partitions: 1
      "    0000"                  //     error_code
      "    00000000"              //     partition_index 0
      "    00000001"              //     leader_id 1
      "    00000001 00000001"     //     replica_nodes [1]
      "    00000001 00000001");   //     isr_nodes [1]
  auto m = decode_all<metadata_response>(wire, 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->brokers[0].host, "localhost");
  EXPECT_EQ(m->brokers[0].port, 9092);
  EXPECT_EQ(m->topics[0].partitions[0].isr_nodes, std::vector<int32_t>{1});
  EXPECT_EQ(to_hex(encode(sample_metadata(), 0)), to_hex(wire));
  EXPECT_TRUE(*m == sample_metadata());
}

TEST(vectors, metadata_response_v9) {
  const bytes wire = from_hex(
      "00000000"                  // throttle_time_ms (v3+)
      "02"                        // brokers: 1
      "  00000001"                //   node_id 1
      "  0a 6c6f63616c686f7374"   //   host "localhost" (compact)
      "  00002384"                //   port 9092
      "  00"                      //   rack: null (v1+)
      "  00"                      //   no tagged fields
      "05 61626364"               // cluster_id "abcd" (v2+)
      "00000001"                  // controller_id 1 (v1+)
      "02"                        // topics: 1
      "  0000"                    //   error_code
      "  02 74"                   //   name "t"
      "  00"                      //   is_internal (v1+)
      "  02"                      //   partitions: 1
      "    0000 00000000 00000001"//     error_code, partition_index 0, leader_id 1
      "    00000003"              //     leader_epoch 3 (v7+)
      "    02 00000001"           //     replica_nodes [1]
      "    02 00000001"           //     isr_nodes [1]
      "    01"                    //     offline_replicas [] (v5+)
      "    00"                    //     no tagged fields
      "  80000000"                //   topic_authorized_operations: INT32_MIN default
      "  00"                      //   no tagged fields
      "80000000"                  // cluster_authorized_operations (v8-10)
      "00");                      // no tagged fields
  auto m = decode_all<metadata_response>(wire, 9);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->brokers[0].rack.has_value());
  EXPECT_EQ(m->cluster_id, "abcd");
  EXPECT_EQ(m->topics[0].partitions[0].leader_epoch, 3);
  EXPECT_EQ(m->topics[0].topic_authorized_operations, INT32_MIN);

  metadata_response r = sample_metadata();
  r.cluster_id = "abcd";
  r.controller_id = 1;
  r.topics[0].partitions[0].leader_epoch = 3;
  EXPECT_EQ(to_hex(encode(r, 9)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

// ---- Produce ----

TEST(vectors, produce_request_v3) {
  const bytes wire = from_hex(
      "ffff"                   // transactional_id: null (v3+)
      "0001"                   // acks 1
      "00007530"               // timeout_ms 30000
      "00000001"               // topic_data: 1
      "  0001 74"              //   name "t"
      "  00000001"             //   partition_data: 1
      "    00000000"           //     index 0
      "    00000004 01020304");//     records: 4 bytes
  auto m = decode_all<produce_request>(wire, 3);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->transactional_id);
  const auto& recs = m->topic_data[0].partition_data[0].records;
  EXPECT_EQ(bytes(recs.memory.begin(), recs.memory.end()), kRecords);
  // The decoded records are a view into the request bytes, not a copy.
  EXPECT_EQ(recs.memory.data(), wire.data() + wire.size() - 4);

  produce_request r;
  r.acks = 1;
  r.timeout_ms = 30000;
  auto& t = r.topic_data.emplace_back();
  t.name = "t";
  t.partition_data.push_back({0, records::copy_of(kRecords)});
  EXPECT_EQ(to_hex(encode(r, 3)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(vectors, produce_request_v9) {
  const bytes wire = from_hex(
      "03 7478"                // transactional_id "tx" (compact nullable)
      "ffff"                   // acks -1
      "00007530"               // timeout_ms 30000
      "02"                     // topic_data: 1
      "  02 74"                //   name "t"
      "  02"                   //   partition_data: 1
      "    00000000"           //     index 0
      "    05 01020304"        //     records: compact length 4 + 1
      "    00"                 //     no tagged fields
      "  00"                   //   no tagged fields
      "00");                   // no tagged fields
  auto m = decode_all<produce_request>(wire, 9);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->transactional_id, "tx");
  EXPECT_EQ(m->acks, -1);
  EXPECT_EQ(m->topic_data[0].partition_data[0].records.size(), 4u);

  produce_request r;
  r.transactional_id = "tx";
  r.acks = -1;
  r.timeout_ms = 30000;
  auto& t = r.topic_data.emplace_back();
  t.name = "t";
  t.partition_data.push_back({0, records::copy_of(kRecords)});
  EXPECT_EQ(to_hex(encode(r, 9)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

produce_response sample_produce_response() {
  produce_response r;
  auto& t = r.responses.emplace_back();
  t.name = "t";
  auto& p = t.partition_responses.emplace_back();
  p.base_offset = 42;
  return r;
}

TEST(vectors, produce_response_v2) {
  const bytes wire = from_hex(
      "00000001"                   // responses: 1
      "  0001 74"                  //   name "t"
      "  00000001"                 //   partition_responses: 1
      "    00000000 0000"          //     index 0, error_code NONE
      "    000000000000002a"       //     base_offset 42
      "    ffffffffffffffff"       //     log_append_time_ms -1 (v2+)
      "0000000a");                 // throttle_time_ms 10 (v1+)
  auto m = decode_all<produce_response>(wire, 2);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->responses[0].partition_responses[0].base_offset, 42);
  EXPECT_EQ(m->throttle_time_ms, 10);

  produce_response r = sample_produce_response();
  r.throttle_time_ms = 10;
  EXPECT_EQ(to_hex(encode(r, 2)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

TEST(vectors, produce_response_v10_with_tagged_current_leader) {
  const bytes wire = from_hex(
      "02"                         // responses: 1
      "  02 74"                    //   name "t"
      "  02"                       //   partition_responses: 1
      "    00000000 0006"          //     index 0, NOT_LEADER_OR_FOLLOWER
      "    000000000000002a"       //     base_offset 42
      "    ffffffffffffffff"       //     log_append_time_ms -1
      "    0000000000000000"       //     log_start_offset 0 (v5+)
      "    01"                     //     record_errors: [] (v8+)
      "    00"                     //     error_message: null (v8+)
      "    01"                     //     one tagged field:
      "    00 09 00000002 00000007 00"  // tag 0 current_leader: leader 2, epoch 7
      "  00"                       //   no tagged fields
      "00000000"                   // throttle_time_ms
      "00");                       // no tagged fields (node_endpoints empty)
  auto m = decode_all<produce_response>(wire, 10);
  ASSERT_TRUE(m);
  const auto& p = m->responses[0].partition_responses[0];
  EXPECT_EQ(p.error_code, 6);
  EXPECT_EQ(p.current_leader.leader_id, 2);
  EXPECT_EQ(p.current_leader.leader_epoch, 7);

  produce_response r = sample_produce_response();
  auto& rp = r.responses[0].partition_responses[0];
  rp.error_code = 6;
  rp.log_start_offset = 0;
  rp.current_leader = {2, 7};
  EXPECT_EQ(to_hex(encode(r, 10)), to_hex(wire));
  EXPECT_TRUE(*m == r);
}

}  // namespace
}  // namespace strata::protocol
