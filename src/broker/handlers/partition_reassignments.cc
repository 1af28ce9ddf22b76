// AlterPartitionReassignments (key 45) and ListPartitionReassignments (key 46), KIP-455.
// Clients send them to the controller (Metadata's controller_id); a broker that is not
// the active controller answers NOT_CONTROLLER, as Kafka's ZooKeeper mode does. The
// controller runs the request on its event thread (controller_reassign.cc) and
// answers once the reassignments have started, not when they complete.
//
// They wait for the controller's event thread (bounded by its call timeout), so they
// run on the broker's worker, off the reactor.
#include <spdlog/spdlog.h>

#include <map>

#include "broker/broker.h"
#include "broker/cluster_member.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

using protocol::error_code;

// The controller's reassign_error as Kafka's wire code: the one mapping.
constexpr error_code to_error_code(controller::reassign_error e) {
  switch (e) {
    case controller::reassign_error::none: return error_code::none;
    case controller::reassign_error::not_controller: return error_code::not_controller;
    case controller::reassign_error::timed_out: return error_code::request_timed_out;
    case controller::reassign_error::unknown_topic_or_partition: return error_code::unknown_topic_or_partition;
    case controller::reassign_error::invalid_replica_assignment: return error_code::invalid_replica_assignment;
    case controller::reassign_error::no_reassignment_in_progress: return error_code::no_reassignment_in_progress;
    case controller::reassign_error::failed: return error_code::unknown_server_error;
  }
  return error_code::unknown_server_error;
}

controller::controller* active_controller(request_context& ctx) {
  cluster_member* member = ctx.b->cluster();
  return member ? member->active_controller() : nullptr;
}

// The top-level message of a request-wide error.
std::string request_error_message(request_context& ctx, controller::reassign_error e) {
  if (e == controller::reassign_error::not_controller)
    return ctx.b->cluster() ? "this broker is not the controller"
                            : "this broker is not in a cluster (zookeeper.connect is unset): reassignment needs "
                              "the ZooKeeper-mode controller";
  return std::string(protocol::error_name(to_error_code(e)));
}

}  // namespace

void alter_partition_reassignments(request_context&& ctx) {
  if (!ctx.on_worker) return offload(std::move(ctx), alter_partition_reassignments);
  protocol::alter_partition_reassignments_request req;
  if (!ctx.decode(req)) return;
  using resp_t = protocol::alter_partition_reassignments_response;
  resp_t resp;
  resp.error_message = std::nullopt;

  controller::alter_reassignments_result r;
  if (auto* ctl = active_controller(ctx)) {
    std::vector<controller::reassignment_request> reqs;
    for (const auto& t : req.topics)
      for (const auto& p : t.partitions) reqs.push_back({t.name, p.partition_index, p.replicas});
    r = ctl->alter_reassignments(std::move(reqs));
  } else {
    r.error = controller::reassign_error::not_controller;
  }
  if (r.error != controller::reassign_error::none) {
    resp.error_code = ec(to_error_code(r.error));
    resp.error_message = request_error_message(ctx, r.error);
    ctx.respond(resp);
    return;
  }
  // Results come back in request order; group them by topic as the request was.
  size_t i = 0;
  for (const auto& t : req.topics) {
    resp_t::reassignable_topic_response tr;
    tr.name = t.name;
    for (size_t n = 0; n < t.partitions.size() && i < r.partitions.size(); ++n, ++i) {
      const auto& pr = r.partitions[i];
      resp_t::reassignable_topic_response::reassignable_partition_response out;
      out.partition_index = pr.partition;
      out.error_code = ec(to_error_code(pr.error));
      if (pr.error == controller::reassign_error::none)
        out.error_message = std::nullopt;
      else
        out.error_message = pr.message;
      tr.partitions.push_back(std::move(out));
    }
    resp.responses.push_back(std::move(tr));
  }
  ctx.respond(resp);
}

void list_partition_reassignments(request_context&& ctx) {
  if (!ctx.on_worker) return offload(std::move(ctx), list_partition_reassignments);
  protocol::list_partition_reassignments_request req;
  if (!ctx.decode(req)) return;
  using resp_t = protocol::list_partition_reassignments_response;
  resp_t resp;
  resp.error_message = std::nullopt;

  controller::list_reassignments_result r;
  if (auto* ctl = active_controller(ctx)) {
    std::optional<std::vector<controller::partition_key>> filter;
    if (req.topics) {
      filter.emplace();
      for (const auto& t : *req.topics)
        for (int32_t p : t.partition_indexes) filter->push_back({t.name, p});
    }
    r = ctl->list_reassignments(std::move(filter));
  } else {
    r.error = controller::reassign_error::not_controller;
  }
  if (r.error != controller::reassign_error::none) {
    resp.error_code = ec(to_error_code(r.error));
    resp.error_message = request_error_message(ctx, r.error);
    ctx.respond(resp);
    return;
  }
  for (const auto& o : r.partitions) {
    if (resp.topics.empty() || resp.topics.back().name != o.topic) {
      resp_t::ongoing_topic_reassignment t;
      t.name = o.topic;
      resp.topics.push_back(std::move(t));
    }
    resp_t::ongoing_topic_reassignment::ongoing_partition_reassignment p;
    p.partition_index = o.partition;
    p.replicas = o.assignment.replicas;
    p.adding_replicas = o.assignment.adding;
    p.removing_replicas = o.assignment.removing;
    resp.topics.back().partitions.push_back(std::move(p));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
