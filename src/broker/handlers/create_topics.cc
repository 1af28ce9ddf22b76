// CreateTopics (key 19): partitions, replication factor, configs, validate-only.
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/config_entries.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void create_topics(request_context&& ctx) {
  // File work (creating/removing partition directories, segments, fsyncs): off the reactor.
  if (!ctx.on_worker) return offload(std::move(ctx), create_topics);
  protocol::create_topics_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::create_topics_response resp;
  for (const auto& t : req.topics) {
    protocol::create_topics_response::creatable_topic_result r;
    r.name = t.name;
    auto fail = [&](protocol::error_code code, std::string msg) {
      r.error_code = ec(code);
      r.error_message = std::move(msg);
      resp.topics.push_back(r);
    };
    int32_t partitions = t.num_partitions;
    int16_t rf = t.replication_factor;
    if (!t.assignments.empty()) {
      // Manual assignment: the partition count is the number of assignments,
      // and every replica must be this broker.
      partitions = static_cast<int32_t>(t.assignments.size());
      rf = static_cast<int16_t>(t.assignments.front().broker_ids.size());
      bool ok = true;
      for (const auto& a : t.assignments)
        for (int32_t id : a.broker_ids) ok = ok && id == b.node_id();
      if (!ok) {
        fail(protocol::error_code::invalid_replica_assignment, "replica assignment names a broker that does not exist");
        continue;
      }
    }
    if (partitions == -1) partitions = static_cast<int32_t>(b.cfg().get_int("num.partitions"));
    if (rf == -1) rf = static_cast<int16_t>(b.cfg().get_int("default.replication.factor"));
    config::topic_overrides overrides;
    for (const auto& c : t.configs)
      if (c.value) overrides[c.name] = *c.value;
    auto err = b.topics().create(t.name, partitions, rf, overrides, req.validate_only);
    if (err) {
      fail(err.code, err.message);
      continue;
    }
    if (!req.validate_only)
      spdlog::info("created topic '{}' with {} partition(s) for {}", t.name, partitions, ctx.peer());
    r.error_code = ec(protocol::error_code::none);
    r.num_partitions = partitions;
    r.replication_factor = rf;
    if (auto ts = b.topics().find(t.name)) r.topic_id = ts->id;
    if (ctx.api_version >= 5) {
      auto tc = config::resolve_topic_config(b.cfg(), overrides);
      std::vector<protocol::create_topics_response::creatable_topic_result::creatable_topic_configs> cfgs;
      for (const auto& e : tc.entries) {
        protocol::create_topics_response::creatable_topic_result::creatable_topic_configs c;
        c.name = e.name;
        c.value = e.value;
        c.read_only = false;
        c.config_source = topic_config_source(e.src);
        c.is_sensitive = false;
        cfgs.push_back(std::move(c));
      }
      r.configs = std::move(cfgs);
    }
    resp.topics.push_back(std::move(r));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
