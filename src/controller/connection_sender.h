#pragma once
// connection_sender: the real broker_sender, over client::broker_connection.
// Connects (and negotiates ApiVersions) on first use and after any failure; each
// request goes at the highest version both sides support, shaped for it
// (shape_for_version). A failure drops the connection and throws; the channel
// retries with backoff, so a broker that restarts is reached again.
//
// One per broker, used by that broker's sender thread; interrupt() may come from
// any thread (conn_mu_ guards the connection against it).
#include <memory>
#include <mutex>

#include "controller/controller_channel.h"

namespace strata::client {
class broker_connection;
}

namespace strata::controller {

class connection_sender final : public broker_sender {
 public:
  explicit connection_sender(broker_target t);
  ~connection_sender() override;

  controller_response send(const controller_request& req, std::chrono::steady_clock::time_point deadline) override;
  void interrupt() override;

 private:
  broker_target target_;
  std::mutex conn_mu_;  // conn_ as seen by interrupt(); only the sender thread changes it
  std::unique_ptr<client::broker_connection> conn_;
  bool interrupted_ = false;  // conn_mu_: no new connection after interrupt()
};

// The factory controller uses by default.
sender_factory connection_sender_factory();

}  // namespace strata::controller
