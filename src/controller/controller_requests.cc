#include "controller/controller_requests.h"

#include <algorithm>

namespace strata::controller {
namespace {

protocol::uuid topic_uuid(const controller_context& ctx, const std::string& topic) {
  auto t = ctx.topics.find(topic);
  if (t == ctx.topics.end() || t->second.topic_id.empty()) return {};
  return protocol::uuid::from_base64(t->second.topic_id).value_or(protocol::uuid{});
}

}  // namespace

int16_t api_key_of(const controller_request& r) {
  return std::visit([](const auto& req) { return std::decay_t<decltype(req)>::api_key; }, r);
}

const char* api_name_of(const controller_request& r) {
  switch (r.index()) {
    case 0: return "LeaderAndIsr";
    case 1: return "UpdateMetadata";
    default: return "StopReplica";
  }
}

int16_t security_protocol_id(const std::string& name) {
  if (name == "PLAINTEXT") return 0;
  if (name == "SSL") return 1;
  if (name == "SASL_PLAINTEXT") return 2;
  if (name == "SASL_SSL") return 3;
  return -1;
}

const zk::endpoint* inter_broker_endpoint(const zk::broker_registration& reg, const std::string& listener) {
  if (reg.endpoints.empty()) return nullptr;
  if (listener.empty()) return &reg.endpoints.front();
  for (const auto& e : reg.endpoints)
    if (e.listener_name == listener) return &e;
  return nullptr;
}

// ---- version shapes ------------------------------------------------------------------

void shape_for_version(protocol::leader_and_isr_request& r, int16_t version) {
  if (version >= 2) return;
  for (auto& ts : r.topic_states)
    for (auto& ps : ts.partition_states) {
      ps.topic_name = ts.topic_name;
      r.ungrouped_partition_states.push_back(std::move(ps));
    }
  r.topic_states.clear();
}

void shape_for_version(protocol::update_metadata_request& r, int16_t version) {
  if (version == 0) {
    // v0 knows one host and port per broker: the PLAINTEXT endpoint (Kafka's choice).
    for (auto& b : r.live_brokers) {
      for (const auto& e : b.endpoints)
        if (e.security_protocol == 0) {
          b.v0_host = e.host;
          b.v0_port = e.port;
          break;
        }
    }
  }
  if (version >= 5) return;
  for (auto& ts : r.topic_states)
    for (auto& ps : ts.partition_states) {
      ps.topic_name = ts.topic_name;
      r.ungrouped_partition_states.push_back(std::move(ps));
    }
  r.topic_states.clear();
}

void shape_for_version(protocol::stop_replica_request& r, int16_t version) {
  if (version >= 3) return;
  for (const auto& ts : r.topic_states) {
    if (version >= 1) {
      protocol::stop_replica_request::stop_replica_topic_v1 t;
      t.name = ts.topic_name;
      for (const auto& ps : ts.partition_states) t.partition_indexes.push_back(ps.partition_index);
      r.topics.push_back(std::move(t));
    } else {
      for (const auto& ps : ts.partition_states) r.ungrouped_partitions.push_back({ts.topic_name, ps.partition_index});
    }
  }
  r.topic_states.clear();
}

// ---- request_batch ---------------------------------------------------------------------

void request_batch::leader_and_isr(const std::vector<int32_t>& brokers, const partition_key& k, bool is_new) {
  for (int32_t b : brokers) {
    if (!ctx_.is_live_or_shutting_down(b)) continue;
    auto [it, inserted] = lai_[b].emplace(k, is_new);
    if (!inserted) it->second = it->second || is_new;
  }
  update_metadata(ctx_.live_or_shutting_down_ids(), {k});
}

void request_batch::update_metadata(const std::vector<int32_t>& brokers, const std::vector<partition_key>& partitions) {
  for (int32_t b : brokers) {
    if (!ctx_.is_live_or_shutting_down(b)) continue;
    auto& parts = um_brokers_[b];
    parts.insert(partitions.begin(), partitions.end());
  }
}

void request_batch::update_metadata_all_partitions(const std::vector<int32_t>& brokers) {
  update_metadata(brokers, ctx_.all_partitions());
}

void request_batch::stop_replica(int32_t broker, const partition_key& k, bool delete_partition) {
  if (!ctx_.is_live_or_shutting_down(broker)) return;
  stop_[{broker, delete_partition}].insert(k);
}

protocol::leader_and_isr_request request_batch::build_leader_and_isr(
    int32_t broker, const std::map<partition_key, bool>& parts) const {
  protocol::leader_and_isr_request req;
  req.controller_id = controller_id_;
  req.controller_epoch = controller_epoch_;
  req.broker_epoch = ctx_.broker_epoch(broker);
  std::set<int32_t> leaders;
  for (const auto& [k, is_new] : parts) {
    const auto* st = ctx_.state(k);
    if (!st) continue;  // nothing elected yet: nothing to tell
    if (req.topic_states.empty() || req.topic_states.back().topic_name != k.topic) {
      protocol::leader_and_isr_request::leader_and_isr_topic_state ts;
      ts.topic_name = k.topic;
      ts.topic_id = topic_uuid(ctx_, k.topic);
      req.topic_states.push_back(std::move(ts));
    }
    protocol::leader_and_isr_request::leader_and_isr_partition_state ps;
    ps.partition_index = k.partition;
    ps.controller_epoch = st->controller_epoch;
    ps.leader = ctx_.being_deleted(k.topic) ? kLeaderDuringDelete : st->leader;
    ps.leader_epoch = st->leader_epoch;
    ps.isr = st->isr;
    ps.partition_epoch = st->partition_epoch;
    const auto a = ctx_.assignment(k);
    ps.replicas = a.replicas;
    ps.adding_replicas = a.adding;  // v3+ (KIP-455)
    ps.removing_replicas = a.removing;
    ps.is_new = is_new;
    ps.leader_recovery_state = static_cast<int8_t>(st->leader_recovery_state);
    req.topic_states.back().partition_states.push_back(std::move(ps));
    if (st->leader >= 0) leaders.insert(st->leader);
  }
  // Kafka sends the leaders' endpoints on the inter-broker listener.
  for (int32_t l : leaders) {
    auto b = ctx_.live_brokers.find(l);
    if (b == ctx_.live_brokers.end()) continue;
    const auto* ep = inter_broker_endpoint(b->second, listener_);
    if (!ep) continue;
    req.live_leaders.push_back({l, ep->host, ep->port});
  }
  return req;
}

protocol::update_metadata_request request_batch::build_update_metadata(int32_t broker,
                                                                       const std::set<partition_key>& parts) const {
  protocol::update_metadata_request req;
  req.controller_id = controller_id_;
  req.controller_epoch = controller_epoch_;
  req.broker_epoch = ctx_.broker_epoch(broker);
  for (const auto& [id, reg] : ctx_.live_brokers) {
    protocol::update_metadata_request::update_metadata_broker b;
    b.id = id;
    for (const auto& e : reg.endpoints) {
      protocol::update_metadata_request::update_metadata_broker::update_metadata_endpoint ue;
      ue.port = e.port;
      ue.host = e.host;
      ue.listener = e.listener_name;
      ue.security_protocol = security_protocol_id(e.security_protocol);
      b.endpoints.push_back(std::move(ue));
    }
    b.rack = reg.rack;
    req.live_brokers.push_back(std::move(b));
  }
  for (const auto& k : parts) {
    const auto* st = ctx_.state(k);
    if (!st) continue;  // Kafka leaves partitions without a leadership record out
    if (req.topic_states.empty() || req.topic_states.back().topic_name != k.topic) {
      protocol::update_metadata_request::update_metadata_topic_state ts;
      ts.topic_name = k.topic;
      ts.topic_id = topic_uuid(ctx_, k.topic);
      req.topic_states.push_back(std::move(ts));
    }
    protocol::update_metadata_request::update_metadata_partition_state ps;
    ps.partition_index = k.partition;
    ps.controller_epoch = st->controller_epoch;
    ps.leader = ctx_.being_deleted(k.topic) ? kLeaderDuringDelete : st->leader;
    ps.leader_epoch = st->leader_epoch;
    ps.isr = st->isr;
    ps.zk_version = st->partition_epoch;
    ps.replicas = ctx_.replicas(k);
    for (int32_t r : ps.replicas)
      if (!ctx_.is_live_or_shutting_down(r) || ctx_.replica_offline(r, k)) ps.offline_replicas.push_back(r);
    req.topic_states.back().partition_states.push_back(std::move(ps));
  }
  return req;
}

void request_batch::send(const request_sink& sink) {
  for (const auto& [b, parts] : lai_) {
    auto req = build_leader_and_isr(b, parts);
    if (!req.topic_states.empty()) sink(b, std::move(req));
  }
  for (const auto& [b, parts] : um_brokers_) sink(b, build_update_metadata(b, parts));
  for (const auto& [key, parts] : stop_) {
    const auto [b, del] = key;
    protocol::stop_replica_request req;
    req.controller_id = controller_id_;
    req.controller_epoch = controller_epoch_;
    req.broker_epoch = ctx_.broker_epoch(b);
    req.delete_partitions = del;
    for (const auto& k : parts) {
      if (req.topic_states.empty() || req.topic_states.back().topic_name != k.topic) {
        protocol::stop_replica_request::stop_replica_topic_state ts;
        ts.topic_name = k.topic;
        req.topic_states.push_back(std::move(ts));
      }
      protocol::stop_replica_request::stop_replica_topic_state::stop_replica_partition_state ps;
      ps.partition_index = k.partition;
      // Kafka sends LeaderDuringDelete's epoch (-2) for a deletion, so the broker
      // deletes whatever epoch it has; the current epoch otherwise.
      const auto* st = ctx_.state(k);
      ps.leader_epoch = del ? kLeaderDuringDelete : (st ? st->leader_epoch : -1);
      ps.delete_partition = del;
      req.topic_states.back().partition_states.push_back(std::move(ps));
    }
    sink(b, std::move(req));
  }
  lai_.clear();
  um_brokers_.clear();
  stop_.clear();
}

}  // namespace strata::controller
