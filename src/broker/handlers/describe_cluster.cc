// DescribeCluster (key 60): this broker, the controller (ourselves) and the id.
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
  resp.controller_id = b.node_id();
  protocol::describe_cluster_response::describe_cluster_broker self;
  self.broker_id = b.node_id();
  auto ep = b.advertised(ctx.listener());
  self.host = ep.host;
  self.port = ep.port;
  resp.brokers.push_back(self);
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
