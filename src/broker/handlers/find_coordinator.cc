// FindCoordinator (key 10): single key (v0-3) or batched keys (v4+). A group's
// coordinator is the leader of its partition of __consumer_offsets
// (ARCHITECTURE.md §8), looked up in the metadata cache. Transactions are not
// supported yet, so transaction coordinators are not available.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_log.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void find_coordinator(request_context&& ctx) {
  // The first one creates __consumer_offsets (50 partitions by default, ~200 ms of
  // file work): off the reactor.
  if (!ctx.on_worker && !ctx.b->topics().find(kOffsetsTopic)) return offload(std::move(ctx), find_coordinator);
  protocol::find_coordinator_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::find_coordinator_response resp;
  struct found {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    const cluster::broker_endpoint* ep = nullptr;
    int32_t node_id = -1;
  };
  std::shared_ptr<const cluster::cluster_view> view;
  auto lookup = [&](const std::string& key, int8_t key_type) -> found {
    if (key_type != 0) return {protocol::error_code::coordinator_not_available, "transactions are not supported yet"};
    if (key.empty()) return {protocol::error_code::invalid_request, "empty group id"};
    if (!b.offsets().ensure_topic()) return {protocol::error_code::coordinator_not_available, "offsets topic unavailable"};
    if (!view) view = b.metadata().snapshot();
    const auto* p = view->partition(kOffsetsTopic, b.groups().partition_for(key));
    const auto* leader = p ? view->broker(p->leader) : nullptr;
    const auto* ep = leader ? endpoint_for(*leader, ctx.listener()) : nullptr;
    if (!ep) return {protocol::error_code::coordinator_not_available, "the group's offsets partition has no leader"};
    return {protocol::error_code::none, {}, ep, leader->id};
  };
  if (ctx.api_version < 4) {
    auto f = lookup(req.key, req.key_type);
    resp.error_code = ec(f.error);
    if (f.error != protocol::error_code::none) {
      resp.error_message = f.message;
      resp.node_id = -1;
      resp.host = "";
      resp.port = -1;
    } else {
      resp.node_id = f.node_id;
      resp.host = f.ep->host;
      resp.port = f.ep->port;
    }
  } else {
    for (const auto& key : req.coordinator_keys) {
      protocol::find_coordinator_response::coordinator c;
      c.key = key;
      auto f = lookup(key, req.key_type);
      c.error_code = ec(f.error);
      if (f.error != protocol::error_code::none) {
        c.error_message = f.message;
        c.node_id = -1;
        c.port = -1;
      } else {
        c.node_id = f.node_id;
        c.host = f.ep->host;
        c.port = f.ep->port;
      }
      resp.coordinators.push_back(std::move(c));
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
