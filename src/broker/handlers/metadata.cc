// Metadata (key 3): brokers, and topics with their partitions. Auto-creates
// unknown topics when the client allows it and auto.create.topics.enable is
// set. Single node: we lead every partition and the ISR is [self].
#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

using resp_t = protocol::metadata_response;

resp_t::metadata_response_topic describe_topic(const broker& b, const topic_state& t) {
  resp_t::metadata_response_topic out;
  out.error_code = ec(protocol::error_code::none);
  out.name = t.name;
  out.topic_id = t.id;
  out.is_internal = t.internal;
  for (const auto& p : t.partitions) {
    resp_t::metadata_response_topic::metadata_response_partition mp;
    mp.error_code = ec(protocol::error_code::none);
    mp.partition_index = p->index();
    mp.leader_id = b.node_id();
    mp.leader_epoch = p->leader_epoch();
    mp.replica_nodes = {b.node_id()};
    mp.isr_nodes = {b.node_id()};
    if (!p->online()) {
      // Offline (KIP-112): its log could not be opened. Kafka reports the leader's
      // offline replica with KAFKA_STORAGE_ERROR; clients back off and retry it.
      mp.error_code = ec(protocol::error_code::kafka_storage_error);
      mp.offline_replicas = {b.node_id()};
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

  resp_t resp;
  resp_t::metadata_response_broker self;
  self.node_id = b.node_id();
  auto ep = b.advertised(ctx.listener());
  self.host = ep.host;
  self.port = ep.port;
  resp.brokers.push_back(self);
  resp.cluster_id = b.cluster_id();
  resp.controller_id = b.node_id();

  // v0: an empty list means every topic; v1+: null means every topic.
  const bool all = !req.topics.has_value() || (ctx.api_version == 0 && req.topics->empty());
  if (all) {
    auto snap = b.topics().snapshot();
    for (const auto& [name, t] : *snap) resp.topics.push_back(describe_topic(b, *t));
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
      if (auto t = b.topics().find(rt.topic_id))
        resp.topics.push_back(describe_topic(b, *t));
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
    if (t)
      resp.topics.push_back(describe_topic(b, *t));
    else
      resp.topics.push_back(topic_error_entry(name, {}, protocol::error_code::unknown_topic_or_partition));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
