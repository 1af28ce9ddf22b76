// DeleteRecords (key 21): move a partition's log start offset forward;
// offset -1 means "up to the high watermark".
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"
#include "storage/log.h"

namespace strata::broker::handlers {

void delete_records(request_context&& ctx) {
  // File work (creating/removing partition directories, segments, fsyncs): off the reactor.
  if (!ctx.on_worker) return offload(std::move(ctx), delete_records);
  protocol::delete_records_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  using resp_t = protocol::delete_records_response;
  resp_t resp;
  for (const auto& rt : req.topics) {
    resp_t::delete_records_topic_result tr;
    tr.name = rt.name;
    auto t = b.topics().find(rt.name);
    for (const auto& rp : rt.partitions) {
      resp_t::delete_records_topic_result::delete_records_partition_result pr;
      pr.partition_index = rp.partition_index;
      pr.low_watermark = -1;
      auto part = t ? t->partition_at(rp.partition_index) : nullptr;
      if (!part) {
        pr.error_code = ec(missing_partition_error(t.get(), rp.partition_index));
        tr.partitions.push_back(std::move(pr));
        continue;
      }
      if (auto e = b.replicas().check_leader(*part, -1)) {
        pr.error_code = ec(to_wire(e));
        tr.partitions.push_back(std::move(pr));
        continue;
      }
      storage::log& log = part->log();
      int64_t target = rp.offset == -1 ? log.high_watermark() : rp.offset;
      if (target < 0 || target > log.high_watermark()) {
        pr.error_code = ec(protocol::error_code::offset_out_of_range);
      } else if (auto e = log.delete_records_before(target)) {
        pr.error_code = ec(protocol::error_code::kafka_storage_error);
      } else {
        pr.error_code = ec(protocol::error_code::none);
        spdlog::info("log start offset of {}-{} moved to {}", rt.name, rp.partition_index, log.log_start_offset());
      }
      pr.low_watermark = log.log_start_offset();
      tr.partitions.push_back(std::move(pr));
    }
    resp.topics.push_back(std::move(tr));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
