// CreatePartitions (key 37): grow a topic's partition count.
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void create_partitions(request_context&& ctx) {
  // File work (creating/removing partition directories, segments, fsyncs): off the reactor.
  if (!ctx.on_worker) return offload(std::move(ctx), create_partitions);
  protocol::create_partitions_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::create_partitions_response resp;
  for (const auto& t : req.topics) {
    protocol::create_partitions_response::create_partitions_topic_result r;
    r.name = t.name;
    auto err = b.topics().add_partitions(t.name, t.count, req.validate_only);
    r.error_code = ec(err.code);
    if (err)
      r.error_message = err.message;
    else if (!req.validate_only)
      spdlog::info("topic '{}' now has {} partitions", t.name, t.count);
    resp.results.push_back(std::move(r));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
