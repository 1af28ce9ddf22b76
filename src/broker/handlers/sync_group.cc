// SyncGroup (key 14): the leader hands in the assignment; every member gets
// its own part once the leader's has arrived.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void sync_group(request_context&& ctx) {
  protocol::sync_group_request req;
  if (!ctx.decode(req)) return;
  group::sync_request sr;
  sr.group_id = req.group_id;
  sr.generation = req.generation_id;
  sr.member_id = req.member_id;
  sr.group_instance_id = req.group_instance_id;
  sr.protocol_type = req.protocol_type;
  sr.protocol_name = req.protocol_name;
  for (auto& a : req.assignments) sr.assignments.push_back({a.member_id, std::move(a.assignment)});
  auto shared = std::make_shared<request_context>(std::move(ctx));
  shared->b->groups().sync(std::move(sr), [shared](group::sync_result r) {
    protocol::sync_group_response resp;
    resp.error_code = group_ec(r.error);
    resp.protocol_type = r.protocol_type;
    resp.protocol_name = r.protocol_name;
    resp.assignment = std::move(r.assignment);
    shared->respond(resp);
  });
}

}  // namespace strata::broker::handlers
