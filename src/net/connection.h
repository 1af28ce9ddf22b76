#pragma once
// Private to net/: one client connection on one reactor.
//
// Lifecycle: created by the listener, started with start(); it reads
// size-prefixed frames and hands each to the request_handler. Responses are
// queued in request order and written by a single writer coroutine, so
// pipelined requests are answered in order even when they complete out of
// order. The reader stops reading (back-pressure) while `max_inflight`
// requests are waiting or while the waiting requests hold max_request_bytes
// or more, so one connection holds at most about twice socket.request.max.bytes
// of requests. Request buffers grow as bytes arrive (a size prefix alone reserves
// nothing) and are charged to the broker-wide memory pool (queued.max.request.bytes);
// when it is spent the reader waits. An idle plaintext connection holds no read buffer.
//
// A request answered with outcome::close condemns the connection: the flag is set
// synchronously in its completion, and the reader dispatches nothing after it.
//
// Concurrency: all state is touched on the reactor thread only; completions
// from other threads are posted here.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <deque>
#include <memory>

#include "net/request.h"
#include "net/server.h"

namespace strata::net {

class reactor;

struct connection_hooks {
  std::function<void()> on_close;  // runs once, on the reactor thread
  std::shared_ptr<memory_pool> pool;  // request buffers are charged here (may be null)
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  // `tls` set: the connection is TLS (an SSL listener); the handshake comes first.
  connection(boost::asio::ip::tcp::socket socket, reactor& r, const server_options& opts,
             request_handler& handler, uint64_t id, std::string listener_name, std::shared_ptr<tls_context> tls,
             connection_hooks hooks);

  void start();
  // Stop reading new requests; close once everything in flight is written.
  void drain();
  // Close at once.
  void close();
  size_t inflight() const { return slots_.size(); }

 private:
  struct slot {
    bool ready = false;
    bool holds = false;  // request.hold_connection was called: read nothing until ready
    size_t request_bytes = 0;
    outcome result;
  };

  boost::asio::awaitable<void> read_loop();
  template <typename Op>
  auto on_stream(Op&& op);
  // Called when a request is still incomplete after a read: ACK what arrived now.
  void ack_partial_request();
  // TLS: the server handshake, then read_loop.
  boost::asio::awaitable<void> handshake_then_read();
  // Sends `length` bytes of `fd` from `offset`: sendfile in plaintext, pread and write
  // through TLS (the kernel cannot encrypt for us without kTLS).
  boost::asio::awaitable<bool> send_file_range(int fd, off_t offset, size_t length);
  // Reads until at least `need` bytes (<= kReadBufferBytes) are buffered.
  boost::asio::awaitable<bool> fill(size_t need);
  // Charges `n` more bytes to `charge`, waiting while the memory pool is spent.
  boost::asio::awaitable<bool> acquire(pool_charge& charge, size_t n);
  // Waits on reader_wakeup_ until something cancels it (or `until`).
  boost::asio::awaitable<void> park_reader(
      std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max());
  // The client hung up (seen without reading what it sent).
  bool peer_gone();
  bool condemned() const { return condemned_->load(std::memory_order_acquire); }
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<bool> write_frame(response_frame& f);
  boost::asio::awaitable<void> idle_watch();
  void complete(const std::shared_ptr<slot>& s, outcome o);
  void kick_writer();
  void pop_slot();

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<tls_context> tls_ctx_;  // keeps the listener's context alive
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;  // over socket_
  reactor& reactor_;
  const server_options& opts_;
  request_handler& handler_;
  std::shared_ptr<connection_info> info_;
  connection_hooks hooks_;

  // Bytes read from the socket but not yet taken: one recv usually brings a small
  // request whole (size prefix and body), or several pipelined ones, instead of one recv
  // for the prefix and one for the body. Large bodies are read straight into their frame.
  // Plaintext: freed while the connection waits for its next request with the socket
  // drained (an idle connection costs no 16 KiB); TLS keeps it.
  static constexpr size_t kReadBufferBytes = 16384;
  // A body larger than what is buffered starts with this much and grows 4x as bytes
  // arrive, up to its declared size.
  static constexpr size_t kInitialBodyBytes = 32768;
  std::unique_ptr<uint8_t[]> rbuf_;
  size_t rpos_ = 0;
  size_t rend_ = 0;
  bool socket_drained_ = true;  // the last read left the socket empty (or none yet)
  uint8_t peek_byte_ = 0;
  std::shared_ptr<memory_pool> pool_;
  bool pool_wait_registered_ = false;  // a wake-up is registered with pool_
  // Set (from any thread) by the completion of a request answered with outcome::close.
  std::shared_ptr<std::atomic<bool>> condemned_;

  std::deque<std::shared_ptr<slot>> slots_;
  boost::asio::steady_timer reader_wakeup_;
  boost::asio::steady_timer idle_timer_;
  size_t inflight_bytes_ = 0;
  bool writer_active_ = false;
  bool reader_blocked_ = false;
  bool draining_ = false;
  bool receive_shut_ = false;  // drain() shut the receive side
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace strata::net
