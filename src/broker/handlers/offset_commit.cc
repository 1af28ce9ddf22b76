// OffsetCommit (key 8): store committed offsets for a group (or a simple
// consumer with generation -1). Partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION; the rest are written to __consumer_offsets.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void offset_commit(request_context&& ctx) {
  protocol::offset_commit_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  using resp_t = protocol::offset_commit_response;
  auto resp = std::make_shared<resp_t>();
  // Where each accepted offset's answer goes: (topic index, partition index).
  auto where = std::make_shared<std::vector<std::pair<size_t, size_t>>>();
  group::commit_request cr;
  cr.group_id = req.group_id;
  cr.generation = ctx.api_version >= 1 ? req.generation_id_or_member_epoch : -1;
  cr.member_id = req.member_id;
  cr.group_instance_id = req.group_instance_id;
  for (auto& t : req.topics) {
    resp_t::offset_commit_response_topic rt;
    rt.name = t.name;
    auto topic = b.topics().find(t.name);
    for (auto& p : t.partitions) {
      resp_t::offset_commit_response_topic::offset_commit_response_partition rp;
      rp.partition_index = p.partition_index;
      if (!topic || !topic->has_index(p.partition_index)) {
        rp.error_code = group_ec(group::errc::unknown_topic_or_partition);
      } else {
        group::committed_offset off;
        off.offset = p.committed_offset;
        off.leader_epoch = p.committed_leader_epoch;
        off.metadata = p.committed_metadata.value_or("");
        off.commit_timestamp = ctx.api_version == 1 ? p.commit_timestamp : -1;
        cr.offsets.push_back({{t.name, p.partition_index}, std::move(off)});
        where->push_back({resp->topics.size(), rt.partitions.size()});
      }
      rt.partitions.push_back(rp);
    }
    resp->topics.push_back(std::move(rt));
  }
  auto shared = std::make_shared<request_context>(std::move(ctx));
  shared->b->groups().commit(std::move(cr), [shared, resp, where](std::vector<group::errc> errors) {
    for (size_t i = 0; i < errors.size() && i < where->size(); ++i) {
      auto [ti, pi] = (*where)[i];
      resp->topics[ti].partitions[pi].error_code = group_ec(errors[i]);
    }
    shared->respond(*resp);
  });
}

}  // namespace strata::broker::handlers
