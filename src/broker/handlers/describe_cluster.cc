// DescribeCluster (key 60): the brokers, the controller and the cluster id, from
// the metadata cache.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void describe_cluster(request_context&& ctx) {
  protocol::describe_cluster_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::describe_cluster_response resp;
  if (ctx.api_version >= 1 && req.endpoint_type != 1) {
    // Only broker endpoints (1) exist here; controller endpoints (2) are KRaft's.
    resp.error_code = ec(protocol::error_code::unsupported_endpoint_type);
    resp.error_message = "only broker endpoints are served";
    ctx.respond(resp);
    return;
  }
  resp.error_code = ec(protocol::error_code::none);
  resp.cluster_id = b.cluster_id();
  auto view = b.metadata().snapshot();
  resp.controller_id = view->controller_id;
  for (const auto& [id, info] : view->brokers) {
    const auto* ep = endpoint_for(info, ctx.listener());
    if (!ep) continue;
    protocol::describe_cluster_response::describe_cluster_broker db;
    db.broker_id = id;
    db.host = ep->host;
    db.port = ep->port;
    db.rack = info.rack;
    resp.brokers.push_back(std::move(db));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
