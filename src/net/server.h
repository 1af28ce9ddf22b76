#pragma once
// The network server: N reactor threads (one io_context each), one acceptor
// per configured listener that deals connections to the reactors in turn, and
// the connections living on them. Asio is private to net/.
#include <atomic>
#include <cstdint>
#include <memory>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "net/request.h"
#include "net/tls.h"

namespace strata::net {

struct server_options {
  struct endpoint {
    std::string host;  // "" = any
    uint16_t port = 9092;
    std::string name = "PLAINTEXT";  // the listener name, given to requests (connection_info)
    std::shared_ptr<tls_context> tls;  // set: an SSL listener
  };
  std::vector<endpoint> endpoints;
  unsigned reactors = 0;                    // 0 = hardware concurrency (reactor_count)
  int32_t max_request_bytes = 104'857'600;  // socket.request.max.bytes
  int32_t max_inflight_per_connection = 500;
  int64_t idle_timeout_ms = 600'000;        // connections.max.idle.ms
  int send_buffer_bytes = -1;               // -1 = OS default (autotuned); Kafka's is 102400
  int receive_buffer_bytes = -1;
  bool use_sendfile = true;
  // queued.max.request.bytes: bytes of all buffered requests, broker-wide; -1 = no bound.
  int64_t queued_max_request_bytes = -1;
  // Kafka's connection limits (KIP-308, KIP-402, KIP-612); INT32_MAX = none.
  int32_t max_connections = INT32_MAX;                // max.connections: accept waits
  int32_t max_connections_per_ip = INT32_MAX;         // max.connections.per.ip: refused at once
  std::vector<std::pair<std::string, int32_t>> max_connections_per_ip_overrides;  // host or IP, count
  int32_t max_connection_creation_rate = INT32_MAX;   // per second; accept is delayed beyond it
};

// How many reactors a server runs for server_options::reactors (0: one per
// hardware thread). Others that keep per-reactor state size it with this.
unsigned reactor_count(unsigned requested);

class server {
 public:
  // `handler` must outlive the server.
  server(server_options opts, request_handler& handler);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds every endpoint (throws std::system_error with the address on
  // failure) and starts the reactor threads.
  void start();
  // Ports actually bound, in endpoint order (useful with port 0).
  std::vector<uint16_t> bound_ports() const;

  // Graceful stop: stops accepting, lets connections finish what is in
  // flight (up to `drain_ms`), closes them and joins the threads.
  void stop(int64_t drain_ms = 5000);

  reactor_ref& reactor(unsigned i);
  unsigned reactor_count() const;

  uint64_t active_connections() const;
  uint64_t total_accepted() const;
  // Connections closed at once by max.connections.per.ip or for lack of descriptors.
  uint64_t total_refused() const;
  // Bytes of buffered requests (charged to queued.max.request.bytes).
  int64_t request_memory_used() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace strata::net
