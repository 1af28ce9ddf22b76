// The JSON of Kafka's znodes: field names and types as Kafka writes them
// (kafka.zk.ZkData), decoding of what Kafka itself writes, unknown fields
// tolerated, unknown versions refused. No server needed.
#include "zk/znodes.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <set>

namespace strata::zk {
namespace {

namespace json = boost::json;

json::object obj(const std::string& s) { return json::parse(s).as_object(); }

std::set<std::string> keys(const json::object& o) {
  std::set<std::string> k;
  for (auto& [name, v] : o) k.insert(std::string(name));
  return k;
}

TEST(znodes, paths_follow_kafka_layout) {
  EXPECT_EQ(paths::broker(3), "/brokers/ids/3");
  EXPECT_EQ(paths::topic("t"), "/brokers/topics/t");
  EXPECT_EQ(paths::partition_state("t", 2), "/brokers/topics/t/partitions/2/state");
  EXPECT_EQ(paths::delete_topic("t"), "/admin/delete_topics/t");
  EXPECT_EQ(paths::config_entity("brokers", default_broker_entity), "/config/brokers/<default>");
}

TEST(znodes, cluster_id_version_is_a_string) {
  auto o = obj(encode_cluster_id("abc"));
  EXPECT_EQ(keys(o), (std::set<std::string>{"version", "id"}));
  EXPECT_TRUE(o["version"].is_string());
  EXPECT_EQ(o["version"].as_string(), "1");
  EXPECT_EQ(decode_cluster_id(encode_cluster_id("abc")).value(), "abc");
  auto bad = decode_cluster_id(R"({"version":"2","id":"x"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), kafka_errc::unsupported_version);
}

TEST(znodes, controller_v1_round_trip_and_v2_read) {
  auto o = obj(encode_controller({7, 1700000000123}));
  EXPECT_EQ(keys(o), (std::set<std::string>{"version", "brokerid", "timestamp"}));
  EXPECT_EQ(o["version"].as_int64(), 1);
  EXPECT_EQ(o["brokerid"].as_int64(), 7);
  EXPECT_EQ(o["timestamp"].as_string(), "1700000000123");
  auto c = decode_controller(R"({"version":2,"brokerid":4,"timestamp":"5","kraftControllerEpoch":-1})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c.value().broker_id, 4);
  EXPECT_EQ(decode_controller(R"({"version":3,"brokerid":4})").error(), kafka_errc::unsupported_version);
  EXPECT_EQ(decode_controller_epoch("12").value(), 12);
  EXPECT_EQ(decode_controller_epoch("x").error(), kafka_errc::malformed_znode);
}

TEST(znodes, broker_v4_fields_as_kafka_writes_them) {
  broker_registration b;
  b.id = 1;
  b.endpoints = {{"INTERNAL", "SSL", "10.0.0.1", 9093}, {"PLAINTEXT", "PLAINTEXT", "h1", 9092}};
  b.rack = "r1";
  b.timestamp_ms = 42;
  auto o = obj(encode_broker(b));
  EXPECT_EQ(keys(o), (std::set<std::string>{"version", "host", "port", "jmx_port", "timestamp", "endpoints", "rack",
                                            "listener_security_protocol_map"}));
  EXPECT_EQ(o["version"].as_int64(), 4);
  EXPECT_EQ(o["host"].as_string(), "h1");  // the PLAINTEXT endpoint's
  EXPECT_EQ(o["port"].as_int64(), 9092);
  EXPECT_EQ(o["jmx_port"].as_int64(), -1);
  EXPECT_EQ(o["timestamp"].as_string(), "42");
  EXPECT_EQ(json::serialize(o["endpoints"]), R"(["INTERNAL://10.0.0.1:9093","PLAINTEXT://h1:9092"])");
  EXPECT_EQ(o["listener_security_protocol_map"].as_object().at("INTERNAL").as_string(), "SSL");

  auto back = decode_broker(encode_broker(b));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back.value().endpoints, b.endpoints);
  EXPECT_EQ(back.value().rack, b.rack);
  EXPECT_EQ(back.value().timestamp_ms, 42);

  b.rack.reset();
  b.endpoints = {{"SSL", "SSL", "h", 1}};
  o = obj(encode_broker(b));
  EXPECT_FALSE(o.contains("rack"));
  EXPECT_TRUE(o["host"].is_null());
  EXPECT_EQ(o["port"].as_int64(), -1);
}

TEST(znodes, broker_reads_what_kafka_writes) {
  // Kafka 3.x, BrokerIdZNode v5 with features, plus a field from the future.
  auto b = decode_broker(
      R"({"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","EXT":"SASL_SSL"},)"
      R"("endpoints":["PLAINTEXT://[::1]:9092","EXT://kafka-1.example:9094"],"jmx_port":9999,"host":"::1",)"
      R"("timestamp":"1690000000000","port":9092,"version":5,"new_field":true})");
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_EQ(b.value().endpoints.size(), 2u);
  EXPECT_EQ(b.value().endpoints[0].host, "::1");
  EXPECT_EQ(b.value().endpoints[1], (endpoint{"EXT", "SASL_SSL", "kafka-1.example", 9094}));
  EXPECT_EQ(b.value().jmx_port, 9999);
  EXPECT_EQ(endpoint_string(b.value().endpoints[0]), "PLAINTEXT://[::1]:9092");
  EXPECT_EQ(decode_broker(R"({"version":6,"endpoints":[]})").error(), kafka_errc::unsupported_version);
  EXPECT_EQ(decode_broker(R"({"version":4})").error(), kafka_errc::malformed_znode);
  EXPECT_EQ(decode_broker("not json").error(), kafka_errc::malformed_znode);
}

TEST(znodes, topic_v3) {
  topic_assignment t;
  t.topic_id = "q1lXtNrnRf2xBJmE2P3v0w";
  t.partitions = {{0, {1, 2}}, {1, {2, 3}}};
  auto o = obj(encode_topic(t));
  EXPECT_EQ(keys(o), (std::set<std::string>{"version", "topic_id", "partitions", "adding_replicas", "removing_replicas"}));
  EXPECT_EQ(o["version"].as_int64(), 3);
  EXPECT_EQ(json::serialize(o["partitions"]), R"({"0":[1,2],"1":[2,3]})");
  EXPECT_EQ(json::serialize(o["adding_replicas"]), "{}");
  auto back = decode_topic(encode_topic(t));
  ASSERT_TRUE(back);
  EXPECT_EQ(back.value().partitions, t.partitions);
  EXPECT_EQ(back.value().topic_id, t.topic_id);
  // Kafka 1.x wrote version 1 with partitions only.
  auto v1 = decode_topic(R"({"version":1,"partitions":{"2":[3],"0":[1]}})");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1.value().partitions.size(), 2u);
  EXPECT_EQ(v1.value().topic_id, "");
  EXPECT_EQ(decode_topic(R"({"version":4,"partitions":{}})").error(), kafka_errc::unsupported_version);
  EXPECT_EQ(decode_topic(R"({"version":3,"partitions":{"x":[1]}})").error(), kafka_errc::malformed_znode);
}

TEST(znodes, partition_state_v1) {
  leader_and_isr s{2, 5, 3, {2, 1}};
  auto o = obj(encode_partition_state(s));
  EXPECT_EQ(keys(o), (std::set<std::string>{"version", "leader", "leader_epoch", "controller_epoch", "isr"}));
  auto back = decode_partition_state(encode_partition_state(s));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back.value().same_state(s));
  s.leader_recovery_state = 1;
  EXPECT_TRUE(obj(encode_partition_state(s)).contains("leader_recovery_state"));
  EXPECT_FALSE(decode_partition_state(encode_partition_state(s)).value().same_state(leader_and_isr{2, 5, 3, {2, 1}}));
  EXPECT_EQ(decode_partition_state(R"({"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1})").error(),
            kafka_errc::malformed_znode);
}

TEST(znodes, reassign_partitions) {
  // As kafka-reassign-partitions.sh (before KIP-455) writes it; "log_dirs" is ignored.
  auto r = decode_reassignment(
      R"({"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[3,1],"log_dirs":["any","any"]}]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0].tp.topic, "t");
  EXPECT_EQ(r.value()[0].tp.partition, 1);
  EXPECT_EQ(r.value()[0].replicas, (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(encode_reassignment(r.value()), R"({"version":1,"partitions":[{"topic":"t","partition":1,"replicas":[3,1]}]})");
  EXPECT_EQ(decode_reassignment(R"({"version":1,"partitions":[{"topic":"t","partition":1}]})").error(),
            kafka_errc::malformed_znode);
  EXPECT_EQ(decode_reassignment(R"({"version":2,"partitions":[]})").error(), kafka_errc::unsupported_version);
}

TEST(znodes, isr_change_config_and_producer_block) {
  auto isr = obj(encode_isr_change({{"a", 0}, {"b", 3}}));
  EXPECT_EQ(json::serialize(isr["partitions"]), R"([{"topic":"a","partition":0},{"topic":"b","partition":3}])");
  EXPECT_EQ(decode_isr_change(encode_isr_change({{"a", 0}})).value(), (std::vector<topic_partition>{{"a", 0}}));

  // KIP-112's notification, as Kafka's LogDirEventNotificationSequenceZNode writes it.
  EXPECT_EQ(encode_log_dir_event(3), R"({"version":1,"broker":3,"event":1})");
  EXPECT_EQ(decode_log_dir_event(encode_log_dir_event(7)).value(), 7);
  EXPECT_EQ(decode_log_dir_event(R"({"version":1,"event":1})").error(), kafka_errc::malformed_znode);
  EXPECT_EQ(decode_log_dir_event(R"({"version":1,"broker":-1,"event":1})").error(), kafka_errc::malformed_znode);

  auto cfg = obj(encode_entity_config({{"retention.ms", "1000"}}));
  EXPECT_EQ(keys(cfg), (std::set<std::string>{"version", "config"}));
  EXPECT_EQ(cfg["version"].as_int64(), 1);
  EXPECT_EQ(decode_entity_config(R"({"version":1,"config":{"a":"b"}})").value(), (config_map{{"a", "b"}}));
  EXPECT_EQ(decode_entity_config(R"({"version":1,"config":{"a":1}})").error(), kafka_errc::malformed_znode);

  auto change = obj(encode_config_change("topics", "t"));
  EXPECT_EQ(json::serialize(change), R"({"version":2,"entity_path":"topics/t"})");
  auto nested = decode_config_change(R"({"version":2,"entity_path":"users/u/clients/c"})");
  EXPECT_EQ(nested.value().entity_type, "users");
  EXPECT_EQ(nested.value().entity_name, "u/clients/c");
  EXPECT_EQ(decode_config_change(R"({"version":1,"entity_type":"topics","entity_name":"x"})").value().entity_name, "x");

  auto blk = obj(encode_producer_id_block({3, 1000, 1999}));
  EXPECT_EQ(json::serialize(blk), R"({"version":1,"broker":3,"block_start":"1000","block_end":"1999"})");
  auto b = decode_producer_id_block(R"({"version":1,"broker":3,"block_start":"1000","block_end":"1999"})");
  EXPECT_EQ(b.value().first, 1000);
  EXPECT_EQ(b.value().last, 1999);
}

}  // namespace
}  // namespace strata::zk
