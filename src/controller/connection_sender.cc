#include "controller/connection_sender.h"

#include "client/broker_connection.h"

#include <algorithm>
#include <stdexcept>

namespace strata::controller {

connection_sender::connection_sender(broker_target t) : target_(std::move(t)) {}
connection_sender::~connection_sender() = default;

controller_response connection_sender::send(const controller_request& req,
                                            std::chrono::steady_clock::time_point deadline) {
  try {
    if (!conn_) {
      client::endpoint ep{target_.host, static_cast<uint16_t>(target_.port)};
      // Kafka's socket.connection.setup.timeout.ms (10 s): a connect cannot be
      // interrupted, so it is bounded on its own.
      const auto connect_deadline = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(10));
      auto c = std::make_unique<client::broker_connection>(ep, target_.id, connect_deadline);
      std::lock_guard lk(conn_mu_);
      if (interrupted_) throw std::runtime_error("interrupted: the controller stopped sending to this broker");
      conn_ = std::move(c);
    }
    return std::visit(
        [&](const auto& r) -> controller_response {
          using req_t = std::decay_t<decltype(r)>;
          using resp_t = std::variant_alternative_t<
              std::is_same_v<req_t, protocol::leader_and_isr_request>       ? 0
              : std::is_same_v<req_t, protocol::update_metadata_request> ? 1
                                                                          : 2,
              controller_response>;
          const int16_t v = conn_->version_for(req_t::api_key);  // throws when none is shared
          req_t shaped = r;
          shape_for_version(shaped, v);
          return conn_->call_at<resp_t>(shaped, v, deadline);
        },
        req);
  } catch (...) {
    std::lock_guard lk(conn_mu_);
    conn_.reset();  // reconnect (and renegotiate) on the next attempt
    throw;
  }
}

void connection_sender::interrupt() {
  std::lock_guard lk(conn_mu_);
  interrupted_ = true;
  if (conn_) conn_->interrupt();
}

sender_factory connection_sender_factory() {
  return [](const broker_target& t) { return std::make_unique<connection_sender>(t); };
}

}  // namespace strata::controller
