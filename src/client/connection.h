#pragma once
// One TCP connection to a broker, blocking, with every operation bounded by a
// deadline. Sends request frames and reads response frames; knows nothing of
// the messages inside them.
//
// Not thread-safe; not copyable (it owns the socket). Errors are client_errors
// naming the broker ("cannot connect to localhost:9092: Connection refused",
// "timed out after 30000 ms waiting for localhost:9092").
#include <chrono>
#include <cstdint>
#include <vector>

#include "client/endpoint.h"

namespace strata::client {

using clock = std::chrono::steady_clock;

class connection {
 public:
  // Resolves the host and tries each of its addresses until one connects or
  // the deadline passes.
  connection(endpoint ep, clock::time_point deadline);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  const endpoint& peer() const { return peer_; }

  // Writes all of `frame` (size prefix included).
  void send(const std::vector<uint8_t>& frame, clock::time_point deadline);
  // Reads one response frame and returns it without its size prefix.
  std::vector<uint8_t> receive(clock::time_point deadline);
  // The same into `frame` (resized to the frame's size): a caller that passes the
  // same vector each time reuses its capacity instead of allocating, zero-filling
  // and page-faulting a new buffer per response (a replica fetcher's 1 MiB responses).
  void receive(clock::time_point deadline, std::vector<uint8_t>& frame);
  // The one call another thread may make: shuts the socket down, so that a send or
  // receive blocked on it now fails at once (a replica fetcher stopping while its
  // long poll is out). The connection must outlive the call.
  void interrupt();

 private:
  void wait_ready(short events, clock::time_point deadline, const char* waiting_for);
  void read_exact(uint8_t* p, size_t n, clock::time_point deadline);

  endpoint peer_;
  int fd_ = -1;
  clock::time_point started_;  // for the "timed out after N ms" wording
};

}  // namespace strata::client
