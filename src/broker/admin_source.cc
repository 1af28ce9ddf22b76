#include "broker/admin_source.h"

#include <algorithm>

#include "broker/api_table.h"
#include "broker/broker.h"
#include "broker/cluster_member.h"
#include "broker/handlers/common.h"
#include "group/group_coordinator.h"
#include "net/server.h"
#include "storage/log.h"

namespace strata::broker {
namespace {

admin::topic_summary summary_of(const topic_state& t) {
  admin::topic_summary s;
  s.name = t.name;
  s.id = t.id.to_base64();
  s.partitions = static_cast<int32_t>(t.partitions.size());
  s.replication_factor = t.replication_factor;
  s.internal = t.internal;
  return s;
}

std::string_view source_name(config::topic_config::source s) {
  switch (s) {
    case config::topic_config::source::topic: return "topic";
    case config::topic_config::source::static_broker: return "static_broker";
    case config::topic_config::source::default_: return "default";
  }
  return "default";
}

// Lag as Kafka's tools report it: log end offset minus the committed offset,
// never negative (a commit past the end, e.g. after DeleteRecords or a
// truncation, shows 0).
int64_t lag_of(int64_t log_end, int64_t committed) { return std::max<int64_t>(0, log_end - committed); }

}  // namespace

admin::broker_metrics admin_source::metrics() {
  admin::broker_metrics m;
  for (uint64_t us : request_metrics::kBucketBoundsUs) m.latency_bounds_seconds.push_back(static_cast<double>(us) / 1e6);
  const auto apis = supported_apis();
  const auto& rs = b_.request_stats();
  for (size_t i = 0; i < apis.size(); ++i) {
    auto t = rs.sum(i);
    admin::api_metrics a;
    a.api = std::string(api_name(apis[i].key));
    a.requests = t.requests;
    a.errors = t.errors;
    a.latency_seconds_sum = static_cast<double>(t.latency_ns) / 1e9;
    a.buckets.assign(t.buckets.begin(), t.buckets.end());
    m.apis.push_back(std::move(a));
  }
  auto snap = b_.topics().snapshot();
  for (const auto& [name, t] : *snap) {
    admin::topic_io_metrics io;
    io.topic = name;
    for (const auto& p : t->partitions) {
      if (!p) continue;  // cluster mode: no replica here
      io.bytes_in += p->io().bytes_in.load(std::memory_order_relaxed);
      io.messages_in += p->io().messages_in.load(std::memory_order_relaxed);
      io.bytes_out += p->io().bytes_out.load(std::memory_order_relaxed);
      if (!p->online()) continue;  // offline (KIP-112): no log to measure
      admin::partition_metrics pm;
      pm.topic = name;
      pm.partition = p->index();
      pm.size_bytes = p->log().size_bytes();
      pm.log_start_offset = p->log().log_start_offset();
      pm.log_end_offset = p->log().log_end_offset();
      m.partitions.push_back(std::move(pm));
    }
    m.topics.push_back(std::move(io));
  }
  for (const auto& g : b_.groups().list({})) {
    for (const auto& [tp, committed] : b_.groups().fetch_offsets(g.group_id, std::nullopt)) {
      if (!committed || committed->offset < 0) continue;
      auto part = b_.topics().find_partition(tp.topic, tp.partition);
      if (!part || !part->online()) continue;
      m.lags.push_back({g.group_id, tp.topic, tp.partition, lag_of(part->log().log_end_offset(), committed->offset)});
    }
  }
  m.active_connections = srv_.active_connections();
  m.connections_accepted = srv_.total_accepted();
  auto repl = b_.replicas().statistics();
  m.replication.leader_partitions = repl.leaders;
  m.replication.under_replicated_partitions = repl.under_replicated;
  m.replication.isr_shrinks = repl.isr_shrinks;
  m.replication.isr_expands = repl.isr_expands;
  auto view = b_.metadata().snapshot();
  for (const auto& [name, t] : view->topics)
    for (const auto& p : t->partitions)
      if (p.leader < 0) ++m.replication.offline_partitions;
  m.replication.controller_id = view->controller_id;
  if (auto* member = b_.cluster()) m.replication.max_follower_lag = member->max_follower_lag();
  m.replication.active_controller = view->controller_id == b_.node_id();
  return m;
}

std::vector<admin::topic_summary> admin_source::topics() {
  std::vector<admin::topic_summary> out;
  auto snap = b_.topics().snapshot();
  for (const auto& [name, t] : *snap) out.push_back(summary_of(*t));
  return out;
}

std::optional<admin::topic_detail> admin_source::topic(std::string_view name) {
  auto t = b_.topics().find(name);
  if (!t) return std::nullopt;
  admin::topic_detail d;
  d.summary = summary_of(*t);
  auto view = b_.metadata().snapshot();
  for (size_t i = 0; i < t->partitions.size(); ++i) {
    const auto& p = t->partitions[i];
    admin::partition_view v;
    v.partition = static_cast<int32_t>(i);
    // Leader, replicas and ISR as the cluster knows them (a single node: itself).
    if (const auto* info = view->partition(t->name, v.partition)) {
      v.leader = info->leader;
      v.replicas = info->replicas;
      v.isr = info->isr;
    }
    if (p && p->online()) {  // an offline partition (KIP-112) has no log: its figures stay unset
      v.log_start_offset = p->log().log_start_offset();
      v.log_end_offset = p->log().log_end_offset();
      v.high_watermark = p->log().high_watermark();
      v.size_bytes = p->log().size_bytes();
    }
    d.partitions.push_back(std::move(v));
  }
  for (const auto& e : t->cfg.entries) d.configs.push_back({e.name, e.value, std::string(source_name(e.src))});
  return d;
}

std::vector<admin::group_summary> admin_source::groups() {
  std::vector<admin::group_summary> out;
  for (const auto& g : b_.groups().list({})) {
    auto d = b_.groups().describe(g.group_id);
    admin::group_summary s;
    s.group_id = g.group_id;
    s.state = d.state;
    s.protocol_type = d.protocol_type;
    s.protocol = d.protocol_data;
    s.members = d.members.size();
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<admin::group_detail> admin_source::group(std::string_view group_id) {
  const std::string id(group_id);
  auto d = b_.groups().describe(id);
  auto offsets = b_.groups().fetch_offsets(id, std::nullopt);
  if (d.state == "Dead" && offsets.empty()) return std::nullopt;
  admin::group_detail g;
  g.summary.group_id = id;
  g.summary.state = d.state;
  g.summary.protocol_type = d.protocol_type;
  g.summary.protocol = d.protocol_data;
  g.summary.members = d.members.size();
  for (auto& m : d.members) g.members.push_back({m.member_id, m.client_id, m.client_host, m.group_instance_id});
  for (const auto& [tp, committed] : offsets) {
    if (!committed) continue;
    admin::group_offset_view o;
    o.topic = tp.topic;
    o.partition = tp.partition;
    o.committed_offset = committed->offset;
    if (auto part = b_.topics().find_partition(tp.topic, tp.partition); part && part->online()) {
      o.log_end_offset = part->log().log_end_offset();
      if (committed->offset >= 0) o.lag = lag_of(*o.log_end_offset, committed->offset);
    }
    g.offsets.push_back(std::move(o));
  }
  return g;
}

std::vector<admin::broker_view> admin_source::brokers() {
  // Every broker the metadata cache knows (a single node: itself), at its first endpoint.
  std::vector<admin::broker_view> out;
  for (const auto& [id, info] : b_.metadata().snapshot()->brokers) {
    if (info.endpoints.empty()) continue;
    out.push_back({id, info.endpoints.front().host, info.endpoints.front().port, id == b_.node_id()});
  }
  return out;
}

}  // namespace strata::broker
