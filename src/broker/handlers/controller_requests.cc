// The controller's requests to brokers (ZooKeeper mode, DESIGN-NOTES §9):
// LeaderAndIsr (key 4), StopReplica (5) and UpdateMetadata (6). They create and
// delete logs, so they run on the broker's worker, in arrival order. A single node
// has no controller: it refuses them with STALE_CONTROLLER_EPOCH.
#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/cluster_member.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

template <class Req, class Resp>
void controller_request(request_context&& ctx, void (*self)(request_context&&)) {
  if (!ctx.on_worker) return offload(std::move(ctx), self, /*controller_lane=*/true);
  Req req;
  if (!ctx.decode(req)) return;
  cluster_member* member = ctx.b->cluster();
  if (!member) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "{} from {}: this broker is not in a cluster (zookeeper.connect is unset)",
                       api_name(ctx.api_key), ctx.peer());
    Resp resp;
    resp.error_code = ec(protocol::error_code::stale_controller_epoch);
    ctx.respond(resp);
    return;
  }
  ctx.respond(member->apply(req, ctx.api_version));
}

}  // namespace

void leader_and_isr(request_context&& ctx) {
  controller_request<protocol::leader_and_isr_request, protocol::leader_and_isr_response>(std::move(ctx),
                                                                                          leader_and_isr);
}

void update_metadata(request_context&& ctx) {
  controller_request<protocol::update_metadata_request, protocol::update_metadata_response>(std::move(ctx),
                                                                                            update_metadata);
}

// ControlledShutdown (key 7): a broker stopping asks the controller (this broker, when
// it holds /controller) to move its leaderships first.
void controlled_shutdown(request_context&& ctx) {
  if (!ctx.on_worker) return offload(std::move(ctx), controlled_shutdown, /*controller_lane=*/true);
  protocol::controlled_shutdown_request req;
  if (!ctx.decode(req)) return;
  protocol::controlled_shutdown_response resp;
  if (cluster_member* member = ctx.b->cluster()) {
    resp = member->apply(req, ctx.api_version);
  } else {
    resp.error_code = ec(protocol::error_code::not_controller);
  }
  ctx.respond(resp);
}

void stop_replica(request_context&& ctx) {
  controller_request<protocol::stop_replica_request, protocol::stop_replica_response>(std::move(ctx), stop_replica);
}

}  // namespace strata::broker::handlers
