// ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3),
// earliest local (-4, same as earliest without tiered storage), or the first
// offset whose timestamp is at or after T.
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"
#include "protocol/records/record_iterator.h"
#include "storage/log.h"

namespace strata::broker::handlers {
namespace {

// The log's time index answers at batch precision; Kafka answers with the
// first record whose timestamp is >= ts. Read that one batch and look.
std::optional<storage::timestamp_lookup> record_for_timestamp(storage::log& log, int64_t ts) {
  auto found = log.offset_for_timestamp(ts, log.high_watermark());
  if (!found) return found;
  auto rd = log.read(found->offset, 1, log.high_watermark(), true);
  if (!rd || rd->ranges.empty()) return found;
  // max_bytes 1 with min_one_batch: exactly the batch holding found->offset.
  std::vector<uint8_t> batch;
  if (!storage::append_range_bytes(rd.value(), batch)) return found;
  std::vector<uint8_t> scratch;
  records::record_iterator it(batch, scratch);
  records::record r;
  while (it.next(r)) {
    if (it.timestamp_of(r) >= ts) return storage::timestamp_lookup{it.timestamp_of(r), it.offset_of(r), found->leader_epoch};
  }
  return found;
}

}  // namespace

void list_offsets(request_context&& ctx) {
  protocol::list_offsets_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  using resp_t = protocol::list_offsets_response;
  resp_t resp;
  for (const auto& rt : req.topics) {
    resp_t::list_offsets_topic_response tr;
    tr.name = rt.name;
    auto t = b.topics().find(rt.name);
    for (const auto& rp : rt.partitions) {
      resp_t::list_offsets_topic_response::list_offsets_partition_response pr;
      pr.partition_index = rp.partition_index;
      pr.timestamp = -1;
      pr.offset = -1;
      auto found = t ? t->partition_at(rp.partition_index) : nullptr;
      if (!found) {
        pr.error_code = ec(missing_partition_error(t.get(), rp.partition_index));
        tr.partitions.push_back(std::move(pr));
        continue;
      }
      auto& part = *found;
      if (auto e = b.replicas().check_leader(part, rp.current_leader_epoch)) {
        pr.error_code = ec(to_wire(e));
        tr.partitions.push_back(std::move(pr));
        continue;
      }
      storage::log& log = part.log();
      pr.error_code = ec(protocol::error_code::none);
      pr.leader_epoch = part.leader_epoch();
      switch (rp.timestamp) {
        // Latest: the high watermark for clients, the log end for a replica (Kafka:
        // a follower asks where the leader's log ends).
        case -1: pr.offset = req.replica_id >= 0 ? log.log_end_offset() : log.high_watermark(); break;
        case -2:
        case -4: pr.offset = log.log_start_offset(); break;
        case -3: {
          auto [ts, off] = log.max_timestamp_and_offset();
          pr.timestamp = ts;
          pr.offset = off;
          break;
        }
        default: {
          if (rp.timestamp < 0) {
            pr.error_code = ec(protocol::error_code::invalid_request);
            break;
          }
          auto found = record_for_timestamp(log, rp.timestamp);
          if (found) {
            pr.timestamp = found->timestamp;
            pr.offset = found->offset;
          }
        }
      }
      tr.partitions.push_back(std::move(pr));
    }
    resp.topics.push_back(std::move(tr));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
