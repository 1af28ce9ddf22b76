#include "broker/request_context.h"

#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "protocol/frame.h"

namespace strata::broker {

void request_context::begin_response(protocol::writer& w) const {
  protocol::begin_response_frame(w, api_key, api_version, correlation_id);
}

void request_context::send(protocol::writer&& w) {
  protocol::end_frame(w, 0);
  net::response_frame f;
  f.slices = w.take_slices();
  f.bytes = std::move(w.buffer());
  finish(net::outcome::respond(std::move(f)));
}

void request_context::finish(net::outcome o) {
  if (api_index >= 0 && b) {
    b->request_stats().record(req.reactor ? req.reactor->index() : 0, static_cast<size_t>(api_index),
                              std::chrono::steady_clock::now() - arrived, failed);
  }
  req.done(std::move(o));
}

void request_context::decode_failed() {
  STRATA_LOG_LIMITED(spdlog::level::warn, "closing connection from {}: malformed {} v{} request body (correlation id {})",
                     peer(), api_name(api_key), api_version, correlation_id);
  close_connection();
}

void offload(request_context&& ctx, void (*handler)(request_context&&), bool controller_lane) {
  if (ctx.req.hold_connection) ctx.req.hold_connection();
  ctx.req.hold_connection = nullptr;  // not callable off the reactor
  ctx.on_worker = true;
  broker& b = *ctx.b;
  auto shared = std::make_shared<request_context>(std::move(ctx));
  auto fn = [shared, handler] { handler(std::move(*shared)); };
  if (controller_lane)
    b.run_controller_request(std::move(fn));
  else
    b.run_blocking(std::move(fn));
}

}  // namespace strata::broker
