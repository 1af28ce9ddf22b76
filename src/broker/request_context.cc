#include "broker/request_context.h"

#include <spdlog/spdlog.h>

#include "broker/handlers/common.h"

namespace strata::broker {

void request_context::begin_response(protocol::writer& w) const {
  w.write_int32(0);  // size, patched in send()
  w.write_int32(correlation_id);
  if (protocol::response_header_version(api_key, api_version) >= 1) w.write_uvarint(0);  // no tagged fields
}

void request_context::send(protocol::writer&& w) {
  w.patch_int32(0, static_cast<int32_t>(w.total_size() - 4));
  net::response_frame f;
  f.slices = w.take_slices();
  f.bytes = std::move(w.buffer());
  req.done(net::outcome::respond(std::move(f)));
}

void request_context::decode_failed() {
  spdlog::warn("closing connection from {}: malformed {} v{} request body (correlation id {})", peer(),
               api_name(api_key), api_version, correlation_id);
  close_connection();
}

}  // namespace strata::broker
