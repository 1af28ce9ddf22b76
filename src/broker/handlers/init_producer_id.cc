// InitProducerId (key 22): a fresh producer id for idempotent producers.
// Transactions are not supported yet: a transactional id gets an error.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "broker/producer_ids.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

void init_producer_id(request_context&& ctx) {
  protocol::init_producer_id_request req;
  if (!ctx.decode(req)) return;
  protocol::init_producer_id_response resp;
  if (req.transactional_id && !req.transactional_id->empty()) {
    resp.error_code = ec(protocol::error_code::transactional_id_authorization_failed);
    ctx.respond(resp);
    return;
  }
  int64_t id = ctx.b->pids().next();
  if (id == producer_ids::not_ready) {
    resp.error_code = ec(protocol::error_code::coordinator_load_in_progress);  // retriable
  } else if (id < 0) {
    resp.error_code = ec(protocol::error_code::kafka_storage_error);
  } else {
    resp.error_code = ec(protocol::error_code::none);
    resp.producer_id = id;
    resp.producer_epoch = 0;
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
