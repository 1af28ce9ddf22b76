// OffsetForLeaderEpoch (key 23, KIP-101/KIP-320): for each partition, the end offset
// of the requested leader epoch, i.e. the start offset of the next epoch this
// partition has seen (or the log end offset for the latest epoch), and the largest
// epoch not above the requested one. Consumers ask after a leader change to check
// that the log they were reading was not truncated below their position; followers
// ask to find where to truncate their log to.
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"
#include "storage/log.h"

namespace strata::broker::handlers {

void offset_for_leader_epoch(request_context&& ctx) {
  protocol::offset_for_leader_epoch_request req;
  if (!ctx.decode(req)) return;
  using resp_t = protocol::offset_for_leader_epoch_response;
  resp_t resp;
  for (const auto& rt : req.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.topic = rt.topic;
    auto t = ctx.b->topics().find(rt.topic);
    for (const auto& rp : rt.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition = rp.partition;
      auto part = t ? t->partition_at(rp.partition) : nullptr;
      if (!part) {
        pr.error_code = ec(missing_partition_error(t.get(), rp.partition));
        continue;
      }
      if (auto e = ctx.b->replicas().check_leader(*part, rp.current_leader_epoch)) {
        pr.error_code = ec(to_wire(e));
        continue;
      }
      // (-1, -1) when the epoch is older than every epoch the log still knows.
      auto [epoch, end] = part->log().end_offset_for_epoch(rp.leader_epoch);
      pr.leader_epoch = epoch;
      pr.end_offset = end;
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
