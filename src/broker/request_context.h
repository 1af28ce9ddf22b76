#pragma once
// Everything a handler needs for one request: the decoded header, a reader
// positioned at the body, the broker, and the way to answer.
//
// Handlers follow one shape (STYLE §2.8): decode -> validate -> call the
// subsystem -> map errors -> respond. A body that does not decode closes the
// connection (Kafka does the same); a request that decodes but is invalid
// gets an error code.
//
// Metrics: every way of answering (respond/send, no_response,
// close_connection) goes through finish(), which records the request in the
// broker's request_metrics (count, latency from arrival, error) and then
// completes it. A request counts as an error when it closes the connection,
// when its response's top-level error_code is non-zero, or when the handler
// called mark_error() (Produce and Fetch do for any partition error).
#include <chrono>
#include <optional>
#include <string>

#include "net/request.h"
#include "protocol/generated/api_keys.h"
#include "protocol/generated/error_code.h"
#include "protocol/wire.h"

namespace strata::broker {

class broker;

struct request_context {
  net::request req;
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  protocol::reader body;
  broker* b = nullptr;
  // Set by broker::handle: when the frame arrived and the API's dense index
  // (api_table order) for the metrics; -1 = not recorded.
  std::chrono::steady_clock::time_point arrived{};
  int api_index = -1;
  bool failed = false;
  bool on_worker = false;  // running on the broker's worker thread (offload)

  // Decodes the body into `msg`; on failure logs and closes the connection
  // and returns false.
  template <class Msg>
  bool decode(Msg& msg) {
    msg.decode(body, api_version);
    if (!body.ok()) {
      decode_failed();
      return false;
    }
    return true;
  }

  template <class Msg>
  void respond(const Msg& msg) {
    if constexpr (requires { msg.error_code; }) {
      if (msg.error_code != 0) failed = true;
    }
    protocol::writer w;
    begin_response(w);
    msg.encode(w, api_version);
    send(std::move(w));
  }

  void no_response() { finish(net::outcome::none()); }
  void close_connection() {
    failed = true;
    finish(net::outcome::close_connection());
  }
  // The response will carry a non-zero error code somewhere below its top level.
  void mark_error() { failed = true; }

  // A frame that starts at offset 0 of `w`: size placeholder + response header.
  void begin_response(protocol::writer& w) const;
  void send(protocol::writer&& w);  // patches the size and completes
  void decode_failed();
  const std::string& peer() const { return req.conn->peer; }
  // The name of the listener the request came in on (advertised.listeners).
  const std::string& listener() const { return req.conn->listener; }

 private:
  void finish(net::outcome o);
};

// Runs handler(std::move(ctx)) again on the broker's worker thread, with
// ctx.on_worker set, and holds the connection until it answers: later requests of
// the same client then see its effects, as with Kafka, which handles one request
// per connection at a time. Call from the handler on the reactor, before answering.
// controller_lane: on the thread of the controller's requests (LeaderAndIsr,
// UpdateMetadata, StopReplica, ControlledShutdown) instead, so that an admin request
// waiting for their effect (CreateTopics waits for leaders) never blocks them.
void offload(request_context&& ctx, void (*handler)(request_context&&), bool controller_lane = false);

}  // namespace strata::broker
