// DescribeGroups (key 15) and ListGroups (key 16).
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void describe_groups(request_context&& ctx) {
  protocol::describe_groups_request req;
  if (!ctx.decode(req)) return;
  using resp_t = protocol::describe_groups_response;
  resp_t resp;
  for (const auto& id : req.groups) {
    auto d = ctx.b->groups().describe(id);
    resp_t::described_group g;
    g.error_code = group_ec(id.empty() ? group::errc::invalid_group_id : d.error);
    g.group_id = d.group_id;
    g.group_state = d.state;
    g.protocol_type = d.protocol_type;
    g.protocol_data = d.protocol_data;
    for (auto& m : d.members) {
      resp_t::described_group::described_group_member dm;
      dm.member_id = m.member_id;
      dm.group_instance_id = m.group_instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      dm.member_metadata = std::move(m.metadata);
      dm.member_assignment = std::move(m.assignment);
      g.members.push_back(std::move(dm));
    }
    resp.groups.push_back(std::move(g));
  }
  ctx.respond(resp);
}

void list_groups(request_context&& ctx) {
  protocol::list_groups_request req;
  if (!ctx.decode(req)) return;
  using resp_t = protocol::list_groups_response;
  resp_t resp;
  // Every group here is a classic group; a types filter without "classic"
  // (or "consumer"-type KIP-848 groups) matches nothing.
  bool type_ok = req.types_filter.empty();
  for (const auto& t : req.types_filter) {
    std::string lower = t;
    for (auto& c : lower) c = static_cast<char>(std::tolower(c));
    type_ok = type_ok || lower == "classic";
  }
  auto listing = ctx.b->groups().list_groups(req.states_filter);
  resp.error_code = group_ec(listing.error);
  if (type_ok) {
    for (auto& g : listing.groups) {
      resp_t::listed_group lg;
      lg.group_id = g.group_id;
      lg.protocol_type = g.protocol_type;
      lg.group_state = g.state;
      lg.group_type = "classic";
      resp.groups.push_back(std::move(lg));
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
