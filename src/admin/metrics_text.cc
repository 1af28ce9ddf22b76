#include "admin/metrics_text.h"

#include <fmt/format.h>

#include "admin/prometheus.h"

namespace strata::admin {
namespace {

void render_broker(prometheus_writer& w, const broker_metrics& m) {
  w.family("strata_topic_bytes_in_total", "counter", "Record batch bytes appended by Produce, per topic.");
  for (const auto& t : m.topics) w.sample("strata_topic_bytes_in_total", {{"topic", t.topic}}, t.bytes_in);
  w.family("strata_topic_messages_in_total", "counter",
           "Records appended by Produce, per topic (record counts of the batch headers).");
  for (const auto& t : m.topics) w.sample("strata_topic_messages_in_total", {{"topic", t.topic}}, t.messages_in);
  w.family("strata_topic_bytes_out_total", "counter",
           "Record batch bytes sent in Fetch responses, per topic (consumers and internal reads alike).");
  for (const auto& t : m.topics) w.sample("strata_topic_bytes_out_total", {{"topic", t.topic}}, t.bytes_out);

  w.family("strata_requests_total", "counter", "Requests answered, per API.");
  for (const auto& a : m.apis) w.sample("strata_requests_total", {{"api", a.api}}, a.requests);
  w.family("strata_request_errors_total", "counter",
           "Requests that closed the connection or whose response carried an error code, per API.");
  for (const auto& a : m.apis) w.sample("strata_request_errors_total", {{"api", a.api}}, a.errors);

  w.family("strata_request_duration_seconds", "histogram",
           "Time from a request's arrival to its response being handed to the connection, per API.");
  std::vector<std::string> les;
  for (double b : m.latency_bounds_seconds) {
    std::string s;
    append_double(s, b);
    les.push_back(std::move(s));
  }
  for (const auto& a : m.apis) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < a.buckets.size(); ++i) {
      cumulative += a.buckets[i];
      std::string_view le = i < les.size() ? std::string_view(les[i]) : std::string_view("+Inf");
      w.sample("strata_request_duration_seconds_bucket", {{"api", a.api}, {"le", le}}, cumulative);
    }
    w.sample("strata_request_duration_seconds_sum", {{"api", a.api}}, a.latency_seconds_sum);
    w.sample("strata_request_duration_seconds_count", {{"api", a.api}}, cumulative);
  }

  w.family("strata_active_connections", "gauge", "Open Kafka client connections.");
  w.sample("strata_active_connections", {}, m.active_connections);
  w.family("strata_connections_accepted_total", "counter", "Kafka client connections accepted.");
  w.sample("strata_connections_accepted_total", {}, m.connections_accepted);

  const auto& r = m.replication;
  w.family("strata_leader_partitions", "gauge", "Partitions this broker leads.");
  w.sample("strata_leader_partitions", {}, r.leader_partitions);
  w.family("strata_under_replicated_partitions", "gauge",
           "Partitions led here whose ISR is smaller than their replica set.");
  w.sample("strata_under_replicated_partitions", {}, r.under_replicated_partitions);
  w.family("strata_offline_partitions", "gauge", "Partitions of the cluster without a leader.");
  w.sample("strata_offline_partitions", {}, r.offline_partitions);
  w.family("strata_isr_shrinks_total", "counter", "ISR shrinks committed by this broker as leader.");
  w.sample("strata_isr_shrinks_total", {}, r.isr_shrinks);
  w.family("strata_isr_expands_total", "counter", "ISR expansions committed by this broker as leader.");
  w.sample("strata_isr_expands_total", {}, r.isr_expands);
  w.family("strata_replica_max_lag_messages", "gauge", "Largest lag of a follower replica here, in offsets.");
  w.sample("strata_replica_max_lag_messages", {}, static_cast<uint64_t>(std::max<int64_t>(r.max_follower_lag, 0)));
  w.family("strata_active_controller", "gauge", "1 when this broker is the controller.");
  w.sample("strata_active_controller", {}, static_cast<uint64_t>(r.active_controller ? 1 : 0));

  w.family("strata_partitions", "gauge", "Partitions hosted by this broker (internal topics included).");
  w.sample("strata_partitions", {}, static_cast<uint64_t>(m.partitions.size()));
  w.family("strata_partition_log_size_bytes", "gauge", "Bytes of a partition's log segments on disk.");
  std::vector<std::string> pnums;
  pnums.reserve(m.partitions.size());
  for (const auto& p : m.partitions) pnums.push_back(fmt::format("{}", p.partition));
  for (size_t i = 0; i < m.partitions.size(); ++i)
    w.sample("strata_partition_log_size_bytes", {{"topic", m.partitions[i].topic}, {"partition", pnums[i]}},
             m.partitions[i].size_bytes);
  w.family("strata_partition_log_start_offset", "gauge", "A partition's log start offset.");
  for (size_t i = 0; i < m.partitions.size(); ++i)
    w.sample("strata_partition_log_start_offset", {{"topic", m.partitions[i].topic}, {"partition", pnums[i]}},
             m.partitions[i].log_start_offset);
  w.family("strata_partition_log_end_offset", "gauge", "A partition's log end offset.");
  for (size_t i = 0; i < m.partitions.size(); ++i)
    w.sample("strata_partition_log_end_offset", {{"topic", m.partitions[i].topic}, {"partition", pnums[i]}},
             m.partitions[i].log_end_offset);

  w.family("strata_consumer_group_lag", "gauge",
           "Log end offset minus the group's committed offset, per group and partition with a commit.");
  for (const auto& l : m.lags) {
    std::string part = fmt::format("{}", l.partition);
    w.sample("strata_consumer_group_lag", {{"group", l.group}, {"topic", l.topic}, {"partition", part}}, l.lag);
  }
}

}  // namespace

std::string render_metrics(const broker_metrics* broker, const process_stats& process, health state,
                           double start_time_seconds) {
  prometheus_writer w;
  w.family("strata_broker_up", "gauge", "1 while the broker serves Kafka clients (/health is ready), else 0.");
  w.sample("strata_broker_up", {}, uint64_t{state == health::ready ? 1u : 0u});
  w.family("strata_broker_start_time_seconds", "gauge", "When the broker process started, in Unix seconds.");
  w.sample("strata_broker_start_time_seconds", {}, start_time_seconds);
  if (process.cpu_seconds) {
    w.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
    w.sample("process_cpu_seconds_total", {}, *process.cpu_seconds);
  }
  if (process.resident_memory_bytes) {
    w.family("process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.");
    w.sample("process_resident_memory_bytes", {}, *process.resident_memory_bytes);
  }
  w.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
  w.sample("process_start_time_seconds", {}, start_time_seconds);
  if (broker) render_broker(w, *broker);
  return w.take();
}

}  // namespace strata::admin
