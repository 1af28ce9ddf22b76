// DeleteGroups (key 42) and OffsetDelete (key 47).
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"
#include "protocol/versioned_bytes.h"

namespace strata::broker::handlers {
namespace {

// Whether any member of `g` subscribes to `topic` (ConsumerProtocolSubscription). A
// member whose subscription does not decode counts as subscribed, as in Kafka
// (GroupMetadata.isSubscribedToTopic): when in doubt, keep the offsets.
bool subscribed_to(const std::string& topic, const group::group& g) {
  if (g.protocol_type != "consumer" || !g.protocol_name) return false;
  for (const auto& [id, m] : g.members) {
    const protocol::bytes* meta = m.metadata_for(*g.protocol_name);
    if (!meta) continue;
    auto sub = protocol::decode_versioned<protocol::consumer_protocol_subscription>(*meta);
    if (!sub) return true;
    for (const auto& t : sub->topics)
      if (t == topic) return true;
  }
  return false;
}

}  // namespace

void delete_groups(request_context&& ctx) {
  protocol::delete_groups_request req;
  if (!ctx.decode(req)) return;
  auto ids = req.groups_names;
  auto shared = std::make_shared<request_context>(std::move(ctx));
  shared->b->groups().delete_groups(ids, [shared, ids](std::vector<group::errc> errors) {
    protocol::delete_groups_response resp;
    for (size_t i = 0; i < ids.size(); ++i) {
      protocol::delete_groups_response::deletable_group_result r;
      r.group_id = ids[i];
      r.error_code = group_ec(i < errors.size() ? errors[i] : group::errc::coordinator_not_available);
      resp.results.push_back(std::move(r));
    }
    shared->respond(resp);
  });
}

void offset_delete(request_context&& ctx) {
  protocol::offset_delete_request req;
  if (!ctx.decode(req)) return;
  std::vector<group::topic_partition> parts;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) parts.push_back({t.name, p.partition_index});
  auto shared = std::make_shared<request_context>(std::move(ctx));
  auto reqp = std::make_shared<protocol::offset_delete_request>(std::move(req));
  shared->b->groups().delete_offsets(
      reqp->group_id, parts, subscribed_to,
      [shared, reqp](group::errc top, std::vector<group::errc> errors) {
        protocol::offset_delete_response resp;
        resp.error_code = group_ec(top);
        size_t i = 0;
        for (const auto& t : reqp->topics) {
          protocol::offset_delete_response::offset_delete_response_topic rt;
          rt.name = t.name;
          for (const auto& p : t.partitions) {
            protocol::offset_delete_response::offset_delete_response_topic::offset_delete_response_partition rp;
            rp.partition_index = p.partition_index;
            rp.error_code = group_ec(top == group::errc::ok && i < errors.size() ? errors[i] : group::errc::ok);
            ++i;
            rt.partitions.push_back(rp);
          }
          resp.topics.push_back(std::move(rt));
        }
        shared->respond(resp);
      });
}

}  // namespace strata::broker::handlers
