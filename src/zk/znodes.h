#pragma once
// Kafka's classic ZooKeeper layout (DESIGN-NOTES §13): the znode paths and the
// JSON each one holds, as small structs with pure encode/decode functions.
// Matches kafka.zk.ZkData (ClusterIdZNode, ControllerZNode, BrokerIdZNode,
// TopicZNode, TopicPartitionStateZNode, IsrChangeNotificationSequenceZNode,
// ConfigEntityZNode, ConfigEntityChangeNotificationSequenceZNode,
// ProducerIdBlockZNode). Field order in the JSON is not significant.
//
// Decoders tolerate unknown fields and refuse a "version" they do not know
// (kafka_errc::unsupported_version); broken JSON or a missing required field
// is kafka_errc::malformed_znode.
//
//   /cluster/id                    {"version":"1","id":"<base64 uuid>"}   (version is a string)
//   /controller (E)                {"version":1,"brokerid":N,"timestamp":"<ms>"}
//                                  (read: v1, v2 adds kraftControllerEpoch, ignored)
//   /controller_epoch              "<decimal>"
//   /brokers/ids/<id> (E)          {"version":4,"host":H|null,"port":P|-1,"jmx_port":-1,
//                                   "timestamp":"<ms>","endpoints":["NAME://h:p",...],
//                                   "rack":"r" (only if set),
//                                   "listener_security_protocol_map":{"NAME":"PROTOCOL",...}}
//                                  host/port are the PLAINTEXT endpoint's, else null/-1
//                                  (Kafka's BrokerInfo.toJsonBytes). Read: v1..v5.
//   /brokers/topics/<t>            {"version":3,"topic_id":"<base64>","partitions":{"0":[1,2]},
//                                   "adding_replicas":{},"removing_replicas":{}}  (read: v1..v3)
//   /brokers/topics/<t>/partitions/<p>/state
//                                  {"version":1,"leader":L,"leader_epoch":E,
//                                   "controller_epoch":C,"isr":[...]}; the znode version is
//                                  the partition epoch ("leader_recovery_state" only if not 0)
//   /isr_change_notification/isr_change_<seq> (S)
//                                  {"version":1,"partitions":[{"topic":"t","partition":0}]}
//   /log_dir_event_notification/log_dir_event_<seq> (S)
//                                  {"version":1,"broker":ID,"event":1} (1 = log dir failure)
//   /admin/delete_topics/<t>       null data
//   /admin/reassign_partitions     {"version":1,"partitions":[{"topic":"t","partition":0,
//                                   "replicas":[1,2,3]}]}  (kafka-reassign-partitions.sh
//                                   before KIP-455; "log_dirs" entries are ignored)
//   /config/<type>/<name>          {"version":1,"config":{"k":"v"}}
//   /config/changes/config_change_<seq> (S)
//                                  {"version":2,"entity_path":"topics/<t>"}
//                                  (read: v1 {"entity_type","entity_name"} too)
//   /latest_producer_id_block      {"version":1,"broker":N,"block_start":"<first>","block_end":"<last>"}
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zk/result.h"

namespace strata::zk {

namespace paths {
inline constexpr const char* cluster_id = "/cluster/id";
inline constexpr const char* controller = "/controller";
inline constexpr const char* controller_epoch = "/controller_epoch";
inline constexpr const char* broker_ids = "/brokers/ids";
inline constexpr const char* broker_topics = "/brokers/topics";
inline constexpr const char* broker_seqid = "/brokers/seqid";
inline constexpr const char* isr_change_notification = "/isr_change_notification";
inline constexpr const char* isr_change_prefix = "isr_change_";
inline constexpr const char* delete_topics = "/admin/delete_topics";
inline constexpr const char* reassign_partitions = "/admin/reassign_partitions";
inline constexpr const char* config_changes = "/config/changes";
inline constexpr const char* config_change_prefix = "config_change_";
inline constexpr const char* latest_producer_id_block = "/latest_producer_id_block";
inline constexpr const char* log_dir_event_notification = "/log_dir_event_notification";
inline constexpr const char* log_dir_event_prefix = "log_dir_event_";

std::string broker(int32_t id);
std::string topic(const std::string& t);
std::string topic_partitions(const std::string& t);
std::string partition(const std::string& t, int32_t p);
std::string partition_state(const std::string& t, int32_t p);
std::string delete_topic(const std::string& t);
// type: "topics", "brokers", "clients", "users", "ips"
std::string config_entity(const std::string& type, const std::string& name);
// The persistent paths Kafka makes sure exist at startup
// (KafkaZkClient.makeSurePersistentPathsExist).
const std::vector<std::string>& persistent();
}  // namespace paths

// The broker-level default config entity: /config/brokers/<default>.
inline constexpr const char* default_broker_entity = "<default>";

// ---- values ----------------------------------------------------------------

struct endpoint {
  std::string listener_name;      // "PLAINTEXT", "INTERNAL", ...
  std::string security_protocol;  // "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"
  std::string host;
  int32_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

struct broker_registration {
  int32_t id = -1;
  std::vector<endpoint> endpoints;
  std::optional<std::string> rack;
  int32_t jmx_port = -1;
  int64_t timestamp_ms = 0;
  // Read only: the JSON version and the broker epoch (the znode's czxid, as
  // Kafka's KIP-380 uses it).
  int32_t version = 4;
  int64_t broker_epoch = -1;
};

struct controller_info {
  int32_t broker_id = -1;
  int64_t timestamp_ms = 0;
};

using replica_map = std::map<int32_t, std::vector<int32_t>>;  // partition -> replicas

struct topic_assignment {
  std::string topic_id;  // Kafka's Uuid.toString (URL-safe base64, unpadded); "" for v1/v2
  replica_map partitions;
  replica_map adding_replicas;
  replica_map removing_replicas;
  int32_t zk_version = -1;  // read only
};

struct leader_and_isr {
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t controller_epoch = 0;
  std::vector<int32_t> isr;
  int32_t leader_recovery_state = 0;  // 0 = RECOVERED (not written), 1 = RECOVERING
  // The znode version: not in the JSON. Filled on read, used by conditional updates.
  int32_t partition_epoch = -1;

  // What Kafka's re-read rule compares (ReplicationUtils.checkLeaderAndIsrZkData):
  // every JSON field, not the version.
  bool same_state(const leader_and_isr& o) const {
    return leader == o.leader && leader_epoch == o.leader_epoch && controller_epoch == o.controller_epoch &&
           isr == o.isr && leader_recovery_state == o.leader_recovery_state;
  }
};

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  friend bool operator==(const topic_partition&, const topic_partition&) = default;
};

using config_map = std::map<std::string, std::string>;

struct config_change {
  std::string entity_type;  // "topics", "brokers", ...
  std::string entity_name;  // everything after the first '/', e.g. "t" or "users/u/clients/c"
};

struct producer_id_block {
  int32_t broker = -1;
  int64_t first = 0;  // block_start
  int64_t last = 0;   // block_end, inclusive
  static constexpr int64_t size = 1000;  // ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE
};

// ---- codecs ----------------------------------------------------------------

std::string encode_cluster_id(const std::string& id);
result<std::string> decode_cluster_id(std::string_view json);

std::string encode_controller(const controller_info& c);
result<controller_info> decode_controller(std::string_view json);

std::string encode_controller_epoch(int32_t epoch);
result<int32_t> decode_controller_epoch(std::string_view data);

std::string encode_broker(const broker_registration& b);
result<broker_registration> decode_broker(std::string_view json);
// "NAME://host:port" (IPv6 hosts in brackets), and back.
std::string endpoint_string(const endpoint& e);
std::optional<endpoint> parse_endpoint_string(std::string_view s);

std::string encode_topic(const topic_assignment& t);
result<topic_assignment> decode_topic(std::string_view json);

std::string encode_partition_state(const leader_and_isr& s);
result<leader_and_isr> decode_partition_state(std::string_view json);

std::string encode_isr_change(const std::vector<topic_partition>& tps);
result<std::vector<topic_partition>> decode_isr_change(std::string_view json);

// Kafka's LogDirEventNotificationSequenceZNode; event 1 is LogDirFailure (the only one).
inline constexpr int32_t kLogDirFailureEvent = 1;
std::string encode_log_dir_event(int32_t broker_id);

// /admin/reassign_partitions: target replicas per partition, in the file's order.
struct partition_reassignment {
  topic_partition tp;
  std::vector<int32_t> replicas;
  friend bool operator==(const partition_reassignment&, const partition_reassignment&) = default;
};
std::string encode_reassignment(const std::vector<partition_reassignment>& r);
result<std::vector<partition_reassignment>> decode_reassignment(std::string_view json);
// The broker id of the notification.
result<int32_t> decode_log_dir_event(std::string_view json);

std::string encode_entity_config(const config_map& c);
result<config_map> decode_entity_config(std::string_view json);

std::string encode_config_change(const std::string& entity_type, const std::string& entity_name);
result<config_change> decode_config_change(std::string_view json);

std::string encode_producer_id_block(const producer_id_block& b);
result<producer_id_block> decode_producer_id_block(std::string_view json);

}  // namespace strata::zk
