// Metadata (key 3): brokers, and topics with their partitions, from the
// metadata cache (leaders, epochs, replicas, ISR, offline replicas as the
// cluster knows them). Auto-creates unknown topics when the client allows it
// and auto.create.topics.enable is set.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

using resp_t = protocol::metadata_response;

resp_t::metadata_response_topic describe_topic(const cluster::topic_info& t) {
  resp_t::metadata_response_topic out;
  out.error_code = ec(protocol::error_code::none);
  out.name = t.name;
  out.topic_id = t.id;
  out.is_internal = t.internal;
  int32_t index = 0;
  for (const auto& p : t.partitions) {
    resp_t::metadata_response_topic::metadata_response_partition mp;
    mp.error_code = ec(protocol::error_code::none);
    mp.partition_index = index++;
    mp.leader_id = p.leader;
    mp.leader_epoch = p.leader_epoch;
    mp.replica_nodes = p.replicas;
    mp.isr_nodes = p.isr;
    mp.offline_replicas = p.offline_replicas;
    if (p.leader < 0) {
      // No leader (offline): clients back off and ask again.
      mp.error_code = ec(protocol::error_code::leader_not_available);
    } else if (std::find(p.offline_replicas.begin(), p.offline_replicas.end(), p.leader) != p.offline_replicas.end()) {
      // The leader's replica is offline (KIP-112): its log could not be opened. Kafka
      // reports KAFKA_STORAGE_ERROR; clients back off and retry it.
      mp.error_code = ec(protocol::error_code::kafka_storage_error);
    }
    out.partitions.push_back(std::move(mp));
  }
  return out;
}

resp_t::metadata_response_topic topic_error_entry(std::optional<std::string> name, protocol::uuid id,
                                                  protocol::error_code err) {
  resp_t::metadata_response_topic out;
  out.error_code = ec(err);
  out.name = std::move(name);
  out.topic_id = id;
  return out;
}

}  // namespace

void metadata(request_context&& ctx) {
  protocol::metadata_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;

  auto view = b.metadata().snapshot();
  resp_t resp;
  // Every broker, with its endpoint on the listener this request came in on.
  for (const auto& [id, info] : view->brokers) {
    const auto* ep = endpoint_for(info, ctx.listener());
    if (!ep) continue;
    resp_t::metadata_response_broker mb;
    mb.node_id = id;
    mb.host = ep->host;
    mb.port = ep->port;
    mb.rack = info.rack;
    resp.brokers.push_back(std::move(mb));
  }
  resp.cluster_id = b.cluster_id();
  resp.controller_id = view->controller_id;

  // v0: an empty list means every topic; v1+: null means every topic.
  const bool all = !req.topics.has_value() || (ctx.api_version == 0 && req.topics->empty());
  if (all) {
    for (const auto& [name, t] : view->topics) resp.topics.push_back(describe_topic(*t));
    ctx.respond(resp);
    return;
  }
  const bool allow_create = (ctx.api_version < 4 || req.allow_auto_topic_creation) &&
                            b.cfg().get_bool("auto.create.topics.enable");
  // Auto-created partitions count against strata.create.partitions.max.per.request
  // (all topics of this request) and max.broker.partitions, as CreateTopics does.
  int64_t created = 0;
  for (const auto& rt : *req.topics) {
    if (!rt.name.has_value() || rt.name->empty()) {
      // Lookup by topic id (v10+).
      auto t = b.topics().find(rt.topic_id);
      auto info = t ? b.metadata().snapshot()->topic(t->name) : nullptr;
      if (info)
        resp.topics.push_back(describe_topic(*info));
      else
        resp.topics.push_back(topic_error_entry(std::nullopt, rt.topic_id, protocol::error_code::unknown_topic_id));
      continue;
    }
    const std::string& name = *rt.name;
    auto t = b.topics().find(name);
    if (!t && allow_create && !is_internal_topic(name)) {
      if (check_topic_name(name)) {
        resp.topics.push_back(topic_error_entry(name, {}, protocol::error_code::invalid_topic_exception));
        continue;
      }
      const auto partitions = static_cast<int32_t>(b.cfg().get_int("num.partitions"));
      if (auto over = b.topics().check_request_limit(created + partitions)) {
        STRATA_LOG_LIMITED(spdlog::level::warn, "not auto-creating topic '{}' for {}: {}", name, ctx.peer(),
                           over.message);
        resp.topics.push_back(topic_error_entry(name, {}, over.code));
        continue;
      }
      auto err = b.topics().create(name, partitions,
                                   static_cast<int16_t>(b.cfg().get_int("default.replication.factor")), {}, false);
      if (!err) created += partitions;
      if (err && err.code == protocol::error_code::policy_violation)
        STRATA_LOG_LIMITED(spdlog::level::warn, "not auto-creating topic '{}' for {}: {}", name, ctx.peer(),
                           err.message);
      if (err && err.code != protocol::error_code::topic_already_exists) {
        resp.topics.push_back(topic_error_entry(name, {}, err.code));
        continue;
      }
      if (!err) spdlog::info("auto-created topic '{}' for {}", name, ctx.peer());
      t = b.topics().find(name);
    }
    // After an auto-creation the cache has a newer view than `view`.
    auto info = t ? b.metadata().snapshot()->topic(name) : nullptr;
    if (info)
      resp.topics.push_back(describe_topic(*info));
    else if (t)
      // Created (in a cluster: written to ZooKeeper) but its leaders not known here
      // yet: Kafka's answer, which clients retry.
      resp.topics.push_back(topic_error_entry(name, t->id, protocol::error_code::leader_not_available));
    else
      resp.topics.push_back(topic_error_entry(name, {}, protocol::error_code::unknown_topic_or_partition));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
