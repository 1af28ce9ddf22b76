// JoinGroup (key 11): join or rejoin a consumer group; the answer comes when
// the rebalance's join phase ends (group coordinator).
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void join_group(request_context&& ctx) {
  protocol::join_group_request req;
  if (!ctx.decode(req)) return;
  group::join_request jr;
  jr.group_id = req.group_id;
  jr.member_id = req.member_id;
  jr.group_instance_id = req.group_instance_id;
  jr.client_id = ctx.client_id.value_or("");
  // Kafka reports the client host as "/<ip>". (Appending avoids GCC 12's
  // false -Wrestrict warning on `"/" + std::string`.)
  jr.client_host.reserve(ctx.peer().size() + 1);
  jr.client_host.push_back('/');
  jr.client_host.append(ctx.peer(), 0, ctx.peer().rfind(':'));
  jr.session_timeout_ms = req.session_timeout_ms;
  jr.rebalance_timeout_ms = ctx.api_version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  jr.protocol_type = req.protocol_type;
  for (auto& p : req.protocols) jr.protocols.push_back({p.name, std::move(p.metadata)});
  jr.require_known_member_id = ctx.api_version >= 4;
  auto shared = std::make_shared<request_context>(std::move(ctx));
  shared->b->groups().join(std::move(jr), [shared](group::join_result r) {
    protocol::join_group_response resp;
    resp.error_code = group_ec(r.error);
    resp.generation_id = r.generation;
    resp.protocol_type = r.protocol_type;
    resp.protocol_name = r.protocol_name;
    if (shared->api_version < 7 && !resp.protocol_name) resp.protocol_name = std::string();
    resp.leader = r.leader;
    resp.skip_assignment = r.skip_assignment && shared->api_version >= 9;
    resp.member_id = r.member_id;
    for (auto& m : r.members) {
      protocol::join_group_response::join_group_response_member jm;
      jm.member_id = m.member_id;
      jm.group_instance_id = m.group_instance_id;
      jm.metadata = std::move(m.metadata);
      resp.members.push_back(std::move(jm));
    }
    shared->respond(resp);
  });
}

}  // namespace strata::broker::handlers
