#pragma once
// What the admin listener shows, as plain Strata types, and the interface the
// broker implements to provide it (broker/admin_source.cc). admin/ knows
// nothing of the broker, the wire types or Asio through this header; the
// broker depends on admin/, not the other way round.
//
// Concurrency: the admin listener calls a source from its own thread, one
// call at a time; implementations read the broker's lock-free snapshots and
// atomics (and the group coordinator under its own mutex).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::admin {

enum class health { starting, ready, shutting_down };
std::string_view health_name(health h);

struct partition_view {
  int32_t partition = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas, isr;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0;
  uint64_t size_bytes = 0;
};

struct config_view {
  std::string name, value, source;  // source: "topic", "static_broker" or "default"
};

struct topic_summary {
  std::string name;
  std::string id;  // Kafka's base64 form
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  bool internal = false;
};

struct topic_detail {
  topic_summary summary;
  std::vector<partition_view> partitions;
  std::vector<config_view> configs;
};

struct group_summary {
  std::string group_id, state, protocol_type, protocol;
  size_t members = 0;
};

struct group_member_view {
  std::string member_id, client_id, client_host;
  std::optional<std::string> group_instance_id;
};

struct group_offset_view {
  std::string topic;
  int32_t partition = 0;
  int64_t committed_offset = -1;
  std::optional<int64_t> log_end_offset;  // nullopt: the partition no longer exists
  std::optional<int64_t> lag;             // log_end_offset - committed_offset, at least 0
};

struct group_detail {
  group_summary summary;
  std::vector<group_member_view> members;
  std::vector<group_offset_view> offsets;
};

struct broker_view {
  int32_t id = 0;
  std::string host;
  int32_t port = 0;
  bool self = false;
};

// Counters for /metrics. Every counter is monotonic for the life of the
// object that holds it (a partition, the process).
struct api_metrics {
  std::string api;  // Kafka's name: "Produce", "Fetch", ...
  uint64_t requests = 0;
  uint64_t errors = 0;
  double latency_seconds_sum = 0;
  std::vector<uint64_t> buckets;  // per bound in latency_bounds_seconds, then +Inf; not cumulative
};

struct topic_io_metrics {
  std::string topic;
  uint64_t bytes_in = 0, messages_in = 0, bytes_out = 0;
};

struct partition_metrics {
  std::string topic;
  int32_t partition = 0;
  uint64_t size_bytes = 0;
  int64_t log_start_offset = 0, log_end_offset = 0;
};

struct lag_metric {
  std::string group, topic;
  int32_t partition = 0;
  int64_t lag = 0;
};

// Replication as this broker sees it (Kafka's ReplicaManager and controller gauges).
struct replication_metrics {
  uint64_t leader_partitions = 0;            // partitions this broker leads
  uint64_t under_replicated_partitions = 0;  // of those, ISR smaller than the replicas
  uint64_t offline_partitions = 0;           // partitions of the cluster without a leader
  uint64_t isr_shrinks = 0, isr_expands = 0;  // ISR changes this broker committed as leader
  int64_t max_follower_lag = 0;              // largest (leader log end - our log end) as a follower
  bool active_controller = false;
  int32_t controller_id = -1;
};

struct broker_metrics {
  std::vector<double> latency_bounds_seconds;
  std::vector<api_metrics> apis;
  std::vector<topic_io_metrics> topics;
  std::vector<partition_metrics> partitions;
  std::vector<lag_metric> lags;
  uint64_t active_connections = 0;
  uint64_t connections_accepted = 0;
  replication_metrics replication;
};

class source {
 public:
  virtual ~source() = default;
  virtual broker_metrics metrics() = 0;
  virtual std::vector<topic_summary> topics() = 0;
  virtual std::optional<topic_detail> topic(std::string_view name) = 0;
  virtual std::vector<group_summary> groups() = 0;
  virtual std::optional<group_detail> group(std::string_view group_id) = 0;
  virtual std::vector<broker_view> brokers() = 0;
};

}  // namespace strata::admin
