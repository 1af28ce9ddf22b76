#pragma once
// The admin HTTP listener: one thread, one io_context, Boost.Beast for
// HTTP/1.1, the admin::router for everything else. It is apart from the Kafka
// reactors on purpose: a slow scrape never delays a produce.
//
// Bounds (each connection, and all of them):
//   - at most max_connections at once; one more is answered 503 and closed;
//   - request head (request line + headers) at most max_header_bytes: 431;
//   - request body at most max_body_bytes: 413 (no endpoint takes a body);
//   - malformed HTTP: 400, then the connection closes;
//   - a request must arrive, and its response leave, within `timeout`; an
//     idle keep-alive connection closes after it too.
//
// Lifecycle: start() binds (throws std::system_error naming the address) and
// starts the thread; stop() (or the destructor) stops the thread and closes
// every connection. The router must outlive the server.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace strata::admin {

class router;

struct http_server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 9644;
  size_t max_connections = 64;
  uint32_t max_header_bytes = 8 * 1024;
  uint64_t max_body_bytes = 16 * 1024;
  std::chrono::milliseconds timeout{10'000};
};

class http_server {
 public:
  http_server(http_server_options opts, router& r);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  void start();
  uint16_t port() const;  // the bound port (port 0 resolves at start())
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Parses `bytes` as one HTTP request with the server's limits and returns the
// bytes of the response the server would send ("" when the bytes are an
// incomplete request the server would wait on). The fuzz target's entry.
std::string respond_to_bytes(std::string_view bytes, router& r, const http_server_options& opts);

// "host:port" (host may be "[v6]" or empty for all addresses) into options;
// Throws std::invalid_argument naming the text when it is malformed.
http_server_options parse_listener(std::string_view host_port);

}  // namespace strata::admin
