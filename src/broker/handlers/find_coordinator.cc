// FindCoordinator (key 10): single key (v0-3) or batched keys (v4+).
// Single node: this broker coordinates every group. Transactions are not
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
  auto lookup = [&](const std::string& key, int8_t key_type) -> std::pair<protocol::error_code, std::string> {
    if (key_type != 0) return {protocol::error_code::coordinator_not_available, "transactions are not supported yet"};
    if (key.empty()) return {protocol::error_code::invalid_request, "empty group id"};
    if (!b.offsets().ensure_topic()) return {protocol::error_code::coordinator_not_available, "offsets topic unavailable"};
    return {protocol::error_code::none, {}};
  };
  if (ctx.api_version < 4) {
    auto [err, msg] = lookup(req.key, req.key_type);
    resp.error_code = ec(err);
    if (err != protocol::error_code::none) {
      resp.error_message = msg;
      resp.node_id = -1;
      resp.host = "";
      resp.port = -1;
    } else {
      resp.node_id = b.node_id();
      auto ep = b.advertised(ctx.listener());
      resp.host = ep.host;
      resp.port = ep.port;
    }
  } else {
    for (const auto& key : req.coordinator_keys) {
      protocol::find_coordinator_response::coordinator c;
      c.key = key;
      auto [err, msg] = lookup(key, req.key_type);
      c.error_code = ec(err);
      if (err != protocol::error_code::none) {
        c.error_message = msg;
        c.node_id = -1;
        c.port = -1;
      } else {
        c.node_id = b.node_id();
        auto ep = b.advertised(ctx.listener());
        c.host = ep.host;
        c.port = ep.port;
      }
      resp.coordinators.push_back(std::move(c));
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
