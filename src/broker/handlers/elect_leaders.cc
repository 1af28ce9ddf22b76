// ElectLeaders (key 43, KIP-460): preferred or unclean leader elections, run by the
// controller (Kafka's KafkaApis.handleElectLeaders -> KafkaController.electLeaders).
// Clients send it to the controller; another broker of a cluster answers
// NOT_CONTROLLER for each partition, as Kafka's ZooKeeper mode does. A single node
// leads every partition with its only replica: no election is ever needed.
#include "broker/broker.h"
#include "broker/cluster_member.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "controller/controller.h"
#include "protocol/generated/elect_leaders.h"

namespace strata::broker::handlers {
namespace {

using protocol::error_code;
using controller::election_error;

error_code wire_code(election_error e) {
  switch (e) {
    case election_error::none: return error_code::none;
    case election_error::not_controller: return error_code::not_controller;
    case election_error::unknown_topic_or_partition: return error_code::unknown_topic_or_partition;
    case election_error::topic_being_deleted: return error_code::invalid_topic_exception;
    case election_error::election_not_needed: return error_code::election_not_needed;
    case election_error::preferred_leader_not_available: return error_code::preferred_leader_not_available;
    case election_error::eligible_leaders_not_available: return error_code::eligible_leaders_not_available;
    case election_error::timed_out: return error_code::request_timed_out;
  }
  return error_code::unknown_server_error;
}

// What a broker that runs no election answers: the partitions asked for (every
// partition it knows of when the request names none) with `err`, or, on a single
// node, ELECTION_NOT_NEEDED for those that exist.
std::vector<controller::election_result> answer_locally(broker& b, const protocol::elect_leaders_request& req,
                                                        std::optional<election_error> err) {
  std::vector<controller::election_result> out;
  if (!req.topic_partitions) {
    if (!err) return out;  // every partition, none needing an election: nothing to list
    for (const auto& [name, t] : *b.topics().snapshot())
      for (int32_t i = 0; i < static_cast<int32_t>(t->partitions.size()); ++i) out.push_back({{name, i}, *err});
    return out;
  }
  for (const auto& tp : *req.topic_partitions) {
    const auto t = b.topics().find(tp.topic);
    for (int32_t p : tp.partitions) {
      const bool known = t && t->has_index(p);
      out.push_back({{tp.topic, p},
                     err ? *err : known ? election_error::election_not_needed : election_error::unknown_topic_or_partition});
    }
  }
  return out;
}

}  // namespace

void elect_leaders(request_context&& ctx) {
  // The controller's event thread answers: off the reactor, on the admin worker (the
  // controller lane stays free for the LeaderAndIsr the election sends).
  if (!ctx.on_worker) return offload(std::move(ctx), elect_leaders);
  protocol::elect_leaders_request req;
  if (!ctx.decode(req)) return;
  protocol::elect_leaders_response resp;
  if (req.election_type != 0 && req.election_type != 1) {
    resp.error_code = ec(error_code::invalid_request);
    ctx.respond(resp);
    return;
  }
  const auto type = req.election_type == 0 ? controller::election_type::preferred : controller::election_type::unclean;
  std::vector<controller::election_result> results;
  cluster_member* member = ctx.b->cluster();
  if (!member) {
    results = answer_locally(*ctx.b, req, std::nullopt);
  } else if (controller::controller* ctl = member->active_controller()) {
    std::optional<std::vector<controller::partition_key>> parts;
    if (req.topic_partitions) {
      parts.emplace();
      for (const auto& tp : *req.topic_partitions)
        for (int32_t p : tp.partitions) parts->push_back({tp.topic, p});
    }
    results = ctl->elect_leaders(type, parts);
  } else {
    results = answer_locally(*ctx.b, req, election_error::not_controller);
  }
  std::map<std::string, size_t> index;
  for (const auto& r : results) {
    auto [it, added] = index.try_emplace(r.partition.topic, resp.replica_election_results.size());
    if (added) resp.replica_election_results.emplace_back().topic = r.partition.topic;
    auto& pr = resp.replica_election_results[it->second].partition_result.emplace_back();
    pr.partition_id = r.partition.partition;
    pr.error_code = ec(wire_code(r.error));
    if (r.error == election_error::none)
      pr.error_message.reset();
    else
      pr.error_message = controller::to_string(r.error);
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
