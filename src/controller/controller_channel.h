#pragma once
// controller_channel: the active controller's connections to the live brokers
// (Kafka's ControllerChannelManager). One sender thread and one queue per broker,
// so a slow or dead broker holds up only its own requests; requests to a broker
// leave in the order the controller queued them (UpdateMetadata before
// LeaderAndIsr at failover, so the broker knows the leaders' endpoints).
//
// A request that cannot be delivered (connection refused, timeout, a broker that
// closes the connection) is retried, after a backoff, until it succeeds or the
// broker is removed: as Kafka's RequestSendThread, the controller never skips a
// request. Failures are logged, rate-limited.
//
// broker_sender is the boundary to the broker: the real one
// (connection_sender.h) speaks the Kafka protocol through client::broker_connection;
// tests put one in that records what each broker was sent.
//
// Threading: every public method is thread-safe. Callbacks run on the broker's
// sender thread; they must not block (the controller's only enqueue an event).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controller/controller_requests.h"
#include "zk/znodes.h"

namespace strata::controller {

// Where the controller sends a broker's requests.
struct broker_target {
  int32_t id = -1;
  int64_t broker_epoch = -1;  // the registration znode's czxid
  std::string host;
  int32_t port = 0;
};

// Delivers requests to one broker. Used by one sender thread at a time.
class broker_sender {
 public:
  virtual ~broker_sender() = default;
  // Sends `req` and returns the broker's response. Throws std::exception on any
  // failure to deliver (the channel retries); the request is not changed.
  virtual controller_response send(const controller_request& req, std::chrono::steady_clock::time_point deadline) = 0;
  // The one call another thread may make: a send in progress fails at once (it
  // throws). remove_broker calls it, so a broker that stopped answering (paused, cut
  // off) never holds up the controller's event thread for the request timeout.
  virtual void interrupt() {}
};

using sender_factory = std::function<std::unique_ptr<broker_sender>(const broker_target&)>;
// Called with the response, once, on the sender thread.
using response_callback = std::function<void(const controller_response&)>;

struct channel_options {
  std::chrono::milliseconds request_timeout{30000};  // controller.socket.timeout.ms
  std::chrono::milliseconds retry_backoff{100};      // Kafka's RequestSendThread backoff
  std::chrono::milliseconds max_retry_backoff{1000};
};

class controller_channel {
 public:
  controller_channel(sender_factory factory, channel_options o);
  ~controller_channel();  // stops every thread
  controller_channel(const controller_channel&) = delete;
  controller_channel& operator=(const controller_channel&) = delete;

  // Starts the broker's thread. A broker that is there already (registered again
  // with a new epoch) is replaced: its queue is dropped and its thread stopped.
  void add_broker(const broker_target& t);
  // Stops the broker's thread and drops what was still queued for it. A request in
  // flight is interrupted (broker_sender::interrupt), not waited for.
  void remove_broker(int32_t id);
  void remove_all();
  bool has_broker(int32_t id) const;

  // Queues `req` for the broker; false (and nothing queued) if it is not added.
  bool send(int32_t broker, controller_request req, response_callback cb = {});

  // Requests queued or in flight, over every broker (tests, metrics).
  size_t pending() const;

 private:
  struct broker_queue;
  void run(broker_queue& q);

  sender_factory factory_;
  channel_options opts_;
  mutable std::mutex mu_;
  std::map<int32_t, std::unique_ptr<broker_queue>> brokers_;
};

}  // namespace strata::controller
