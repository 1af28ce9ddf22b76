#pragma once
// The admin API without HTTP plumbing: a method and a request target in, a
// status, content type and body out. http_server parses the bytes (Beast)
// and calls handle(); unit tests and the fuzz target call it directly.
//
//   GET /health              200 {"status":"ready"} | 503 {"status":"starting"|"shutting_down"}
//   GET /metrics             Prometheus text (admin/metrics_text.h)
//   GET /v1/topics           topics: name, id, partitions, replication factor, internal
//   GET /v1/topics/{name}    partitions (leader, replicas, isr, offsets, size) and configs
//   GET /v1/groups           groups: id, state, protocol, member count
//   GET /v1/groups/{id}      members and committed offsets with lag
//   GET /v1/brokers          this broker (single node)
//
// Path segments are percent-decoded (group ids may hold any byte); a query
// string is ignored. Unknown path: 404; known path, other method: 405 (with
// Allow); bad percent-encoding: 400; /v1 while the broker is not serving: 503.
// Errors are JSON: {"error":"..."}.
//
// Concurrency: handle() may run on any one thread at a time with
// set_source() and set_health() from others. set_source(nullptr) waits for
// a handle() that is using the old source, so the caller may destroy it
// afterwards.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "admin/source.h"

namespace strata::admin {

struct reply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::string allow;  // the Allow header of a 405
};

class router {
 public:
  // `start_time_seconds`: the process start, in Unix seconds.
  explicit router(double start_time_seconds) : start_time_seconds_(start_time_seconds) {}

  void set_health(health h) { health_.store(h, std::memory_order_release); }
  health current_health() const { return health_.load(std::memory_order_acquire); }
  // `s` must stay valid until set_source replaces it and returns.
  void set_source(source* s);

  reply handle(std::string_view method, std::string_view target);

 private:
  reply route(std::string_view method, std::string_view target);
  std::atomic<health> health_{health::starting};
  double start_time_seconds_;
  std::mutex mu_;  // held by handle() while it uses source_
  source* source_ = nullptr;
};

// A JSON error reply: {"error": message}.
reply error_reply(unsigned status, std::string_view message);

// Decodes %XX escapes of one path segment; nullopt on a malformed escape.
// '+' stays '+' (it means space only in query strings).
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace strata::admin
