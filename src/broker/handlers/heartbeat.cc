// Heartbeat (key 12) and LeaveGroup (key 13).
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void heartbeat(request_context&& ctx) {
  protocol::heartbeat_request req;
  if (!ctx.decode(req)) return;
  protocol::heartbeat_response resp;
  resp.error_code = group_ec(ctx.b->groups().heartbeat(req.group_id, req.member_id, req.group_instance_id, req.generation_id));
  ctx.respond(resp);
}

void leave_group(request_context&& ctx) {
  protocol::leave_group_request req;
  if (!ctx.decode(req)) return;
  std::vector<group::member_identity> members;
  if (ctx.api_version < 3)
    members.push_back({req.member_id, std::nullopt});
  else
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id});
  auto [top, per_member] = ctx.b->groups().leave(req.group_id, members);
  protocol::leave_group_response resp;
  if (ctx.api_version < 3) {
    resp.error_code = group_ec(per_member.empty() ? top : per_member.front());
  } else {
    resp.error_code = group_ec(top);
    for (size_t i = 0; i < members.size() && i < per_member.size(); ++i) {
      protocol::leave_group_response::member_response mr;
      mr.member_id = members[i].member_id;
      mr.group_instance_id = members[i].group_instance_id;
      mr.error_code = group_ec(per_member[i]);
      resp.members.push_back(std::move(mr));
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
