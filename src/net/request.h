#pragma once
// The seam between the network layer and the broker. Nothing here includes
// Asio: the broker's handlers see a request, a way to answer it (from any
// thread, exactly once), and a reactor facade for timers and posting.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/memory_pool.h"
#include "protocol/wire.h"

namespace strata::net {

// A complete response frame: 4-byte size prefix included, with file slices
// placed between its bytes (served by sendfile).
struct response_frame {
  protocol::bytes bytes;
  std::vector<protocol::writer::placed_slice> slices;
};

class timer_handle {
 public:
  virtual ~timer_handle() = default;
  // Cancels the timer; its callback will not run if it has not started.
  virtual void cancel() = 0;
};

// One reactor thread, seen from outside net/. Safe to call from any thread.
class reactor_ref {
 public:
  virtual ~reactor_ref() = default;
  virtual void post(std::function<void()> fn) = 0;
  // Runs `fn` on this reactor after `delay` unless cancelled first.
  virtual std::shared_ptr<timer_handle> run_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual unsigned index() const = 0;
};

struct connection_info {
  uint64_t id = 0;
  std::string peer;  // "ip:port"
  std::string listener;
};

// How a request ended.
struct outcome {
  enum class kind { respond, no_response, close } what = kind::respond;
  response_frame frame;

  static outcome respond(response_frame f) { return {kind::respond, std::move(f)}; }
  static outcome none() { return {kind::no_response, {}}; }
  static outcome close_connection() { return {kind::close, {}}; }
};

using completion = std::function<void(outcome)>;

// A request frame's bytes. Not zero-filled when allocated: every byte is read from
// the socket before anyone looks at it, and filling a large produce request only to
// overwrite it cost a memset per request. The bytes are charged to the broker's
// request memory pool (queued.max.request.bytes) until the frame is freed.
// malloc'd (not new[]): the connection grows a buffer with realloc while a large
// request arrives, which moves big blocks by remapping pages instead of copying.
struct free_deleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using frame_buffer = std::unique_ptr<uint8_t, free_deleter>;

class frame_bytes {
 public:
  explicit frame_bytes(size_t size) : data_(allocate(size)), size_(size) {}
  // Takes a buffer of at least `size` bytes, already filled, and its charge.
  frame_bytes(frame_buffer data, size_t size, pool_charge charge)
      : data_(std::move(data)), size_(size), charge_(std::move(charge)) {}

  static frame_buffer allocate(size_t size) {
    auto* p = static_cast<uint8_t*>(std::malloc(size ? size : 1));
    if (!p) throw std::bad_alloc();
    return frame_buffer(p);
  }
  // Grows `b` to `size` bytes, keeping its contents.
  static void grow(frame_buffer& b, size_t size) {
    auto* p = static_cast<uint8_t*>(std::realloc(b.get(), size));
    if (!p) throw std::bad_alloc();
    (void)b.release();
    b.reset(p);
  }
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  frame_buffer data_;
  size_t size_;
  pool_charge charge_;
};

struct request {
  // The frame without its size prefix. Shared so that views into it (record
  // batches) stay valid until the request completes; mutable because the log
  // stamps offsets into batches in place.
  std::shared_ptr<frame_bytes> frame;
  std::shared_ptr<const connection_info> conn;
  reactor_ref* reactor = nullptr;  // the connection's reactor; outlives the request
  // Call exactly once, from any thread. Responses leave in request order.
  completion done;
  // Callable only inside request_handler::handle (on the reactor): the connection
  // hands over no further request until this one completes. For handlers that finish
  // on another thread but whose effects later requests of the same client must see
  // (Kafka handles one request per connection at a time).
  std::function<void()> hold_connection;
};

class request_handler {
 public:
  virtual ~request_handler() = default;
  virtual void handle(request req) = 0;
  // The connection closed; any parked work for it may be dropped.
  virtual void connection_closed(const connection_info&) {}
};

}  // namespace strata::net
