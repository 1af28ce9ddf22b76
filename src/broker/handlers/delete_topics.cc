// DeleteTopics (key 20): by name (v0-5) or by name or id (v6+).
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void delete_topics(request_context&& ctx) {
  // File work (creating/removing partition directories, segments, fsyncs): off the reactor.
  if (!ctx.on_worker) return offload(std::move(ctx), delete_topics);
  protocol::delete_topics_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::delete_topics_response resp;

  std::vector<std::pair<std::optional<std::string>, protocol::uuid>> targets;
  for (const auto& n : req.topic_names) targets.push_back({n, {}});
  for (const auto& t : req.topics) targets.push_back({t.name, t.topic_id});

  for (auto& [name, id] : targets) {
    protocol::delete_topics_response::deletable_topic_result r;
    r.name = name;
    r.topic_id = id;
    std::shared_ptr<const topic_state> t;
    if (name && !name->empty())
      t = b.topics().find(*name);
    else
      t = b.topics().find(id);
    if (!t && name && !name->empty() && b.cfg().get_bool("delete.topic.enable") && !b.topics().remove(*name)) {
      // A topic in the metadata that startup left out (over max.broker.partitions).
      spdlog::info("deleted topic '{}' (not loaded) for {}", *name, ctx.peer());
      r.error_code = ec(protocol::error_code::none);
      resp.responses.push_back(std::move(r));
      continue;
    }
    if (!t) {
      r.error_code = ec(name ? protocol::error_code::unknown_topic_or_partition : protocol::error_code::unknown_topic_id);
      resp.responses.push_back(std::move(r));
      continue;
    }
    r.name = t->name;
    r.topic_id = t->id;
    if (!b.cfg().get_bool("delete.topic.enable")) {
      r.error_code = ec(protocol::error_code::topic_deletion_disabled);
    } else if (auto err = b.topics().remove(t->name)) {
      r.error_code = ec(err.code);
      r.error_message = err.message;
    } else {
      spdlog::info("deleted topic '{}' for {}", t->name, ctx.peer());
      r.error_code = ec(protocol::error_code::none);
    }
    resp.responses.push_back(std::move(r));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
