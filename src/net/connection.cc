#include "net/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <array>
#include <algorithm>
#include <cstring>

#include "base/log_limiter.h"
#include "net/reactor.h"
#include "net/tls_context.h"

namespace strata::net {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

connection::connection(asio::ip::tcp::socket socket, reactor& r, const server_options& opts,
                       request_handler& handler, uint64_t id, std::string listener_name,
                       std::shared_ptr<tls_context> tls, connection_hooks hooks)
    : socket_(std::move(socket)),
      tls_ctx_(std::move(tls)),
      reactor_(r),
      opts_(opts),
      handler_(handler),
      info_(std::make_shared<connection_info>()),
      hooks_(std::move(hooks)),
      pool_(hooks_.pool),
      condemned_(std::make_shared<std::atomic<bool>>(false)),
      reader_wakeup_(r.context()),
      idle_timer_(r.context()) {
  info_->id = id;
  info_->listener = std::move(listener_name);
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  info_->peer = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  if (tls_ctx_) tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, tls_ctx_->ctx);
}

void connection::start() {
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (opts_.send_buffer_bytes > 0) socket_.set_option(asio::socket_base::send_buffer_size(opts_.send_buffer_bytes), ec);
  if (opts_.receive_buffer_bytes > 0)
    socket_.set_option(asio::socket_base::receive_buffer_size(opts_.receive_buffer_bytes), ec);
  last_activity_ = std::chrono::steady_clock::now();
  auto self = shared_from_this();
  if (tls_)
    asio::co_spawn(socket_.get_executor(), [self]() { return self->handshake_then_read(); }, asio::detached);
  else
    asio::co_spawn(socket_.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->idle_watch(); }, asio::detached);
}

void connection::drain() {
  draining_ = true;
  boost::system::error_code ec;
  // Stop the reader: a half-close of the receive side ends its pending read.
  socket_.shutdown(asio::socket_base::shutdown_receive, ec);
  receive_shut_ = true;
  reader_wakeup_.cancel();
  if (slots_.empty()) close();
}

void connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_both, ec);
  socket_.close(ec);
  reader_wakeup_.cancel();
  idle_timer_.cancel();
  handler_.connection_closed(*info_);
  if (hooks_.on_close) {
    auto cb = std::move(hooks_.on_close);
    cb();
  }
}

// `op(stream)` on the TLS stream when the connection has one, else on the socket. Not a
// coroutine itself: the plaintext path awaits the socket operation directly.
template <typename Op>
auto connection::on_stream(Op&& op) {
  return tls_ ? op(*tls_) : op(socket_);
}

void connection::ack_partial_request() {
  // TLS clients often write one request as several records (librdkafka: one
  // SSL_write per buffer segment), and with Nagle on (librdkafka's default) the
  // second waits for the first to be ACKed, while this side, in request/response
  // "pingpong" mode, delays that ACK by up to 40 ms: one stall per request, measured
  // as 18 MiB/s consumes. Plaintext clients hand the kernel a request in one write.
  if (!tls_) return;
  int one = 1;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

awaitable<void> connection::handshake_then_read() {
  auto self = shared_from_this();
  // A client that never finishes the handshake is closed by idle_watch
  // (connections.max.idle.ms), like one that never sends a request.
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, use_nothrow);
  if (ec) {
    // Plaintext clients on an SSL port and clients that reject our certificate end
    // here: a routine event for the broker, worth a line for whoever debugs the client.
    STRATA_LOG_LIMITED(spdlog::level::info, "TLS handshake with {} on listener {} failed: {}", info_->peer,
                       info_->listener, ec.message());
    close();
    co_return;
  }
  last_activity_ = std::chrono::steady_clock::now();
  co_await read_loop();
}

awaitable<bool> connection::fill(size_t need) {
  if (rend_ - rpos_ >= need) co_return true;
  if (rpos_ == rend_) rpos_ = rend_ = 0;
  if (rend_ == 0 && !tls_ && socket_drained_) {
    // Nothing buffered and the socket was left empty: wait for the next request without
    // a buffer (a 1-byte peek), so idle connections hold none.
    rbuf_.reset();
    auto peek = asio::buffer(&peek_byte_, 1);
    auto [ec, n] = co_await socket_.async_receive(peek, asio::socket_base::message_peek, use_nothrow);
    if (ec || n == 0) co_return false;
  }
  if (!rbuf_) rbuf_ = std::make_unique_for_overwrite<uint8_t[]>(kReadBufferBytes);
  if (rpos_ > 0) {
    std::memmove(rbuf_.get(), rbuf_.get() + rpos_, rend_ - rpos_);
    rend_ -= rpos_;
    rpos_ = 0;
  }
  while (rend_ < need) {
    // Asio tries the recv at once and, when the previous one left the socket empty (a
    // short read), goes to epoll first: no recv that only returns EAGAIN.
    auto buf = asio::buffer(rbuf_.get() + rend_, kReadBufferBytes - rend_);
    auto [ec, n] = co_await on_stream([&](auto& s) { return s.async_read_some(buf, use_nothrow); });
    if (ec) co_return false;
    socket_drained_ = n < kReadBufferBytes - rend_;
    rend_ += n;
    if (rend_ < need) ack_partial_request();
  }
  co_return true;
}

awaitable<void> connection::park_reader(std::chrono::steady_clock::time_point until) {
  reader_blocked_ = true;
  reader_wakeup_.expires_at(until);
  co_await reader_wakeup_.async_wait(use_nothrow);
  reader_blocked_ = false;
}

awaitable<bool> connection::acquire(pool_charge& charge, size_t n) {
  while (!charge.try_add(n)) {
    // The pool is spent: stop reading until some request buffer is freed.
    // One registration at a time per connection (a long wait must not pile them up).
    if (!pool_wait_registered_) {
      pool_wait_registered_ = true;
      std::weak_ptr<connection> weak = shared_from_this();
      pool_->on_release([weak, &r = reactor_] {
        r.post([weak] {
          if (auto c = weak.lock()) {
            c->pool_wait_registered_ = false;
            c->reader_wakeup_.cancel();
          }
        });
      });
    }
    if (charge.try_add(n)) break;
    STRATA_LOG_LIMITED(spdlog::level::info,
                       "request memory pool spent (queued.max.request.bytes={}): not reading from {} until "
                       "requests complete",
                       pool_->limit(), info_->peer);
    // Not reading, the connection would not see its client leave, and its charge would
    // be held (the pool possibly spent for good): look for a hang-up while waiting.
    co_await park_reader(std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
    if (closed_ || peer_gone()) co_return false;
  }
  co_return true;
}

bool connection::peer_gone() {
  pollfd p{socket_.native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

awaitable<void> connection::read_loop() {
  auto self = shared_from_this();
  if (tls_) rbuf_ = std::make_unique_for_overwrite<uint8_t[]>(kReadBufferBytes);
  while (!closed_ && !draining_ && !condemned()) {
    // Back-pressure: wait for the writer to free a slot.
    while ((static_cast<int32_t>(slots_.size()) >= opts_.max_inflight_per_connection ||
            inflight_bytes_ >= static_cast<size_t>(opts_.max_request_bytes)) &&
           !closed_)
      co_await park_reader();
    if (closed_ || draining_ || condemned()) break;
    if (!co_await fill(4)) break;
    const uint8_t* p = rbuf_.get() + rpos_;
    int32_t size = static_cast<int32_t>((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) |
                                        (uint32_t(p[2]) << 8) | p[3]);
    rpos_ += 4;
    if (size < 8 || size > opts_.max_request_bytes) {
      // Kafka closes the connection on an invalid size (InvalidReceiveException).
      STRATA_LOG_LIMITED(spdlog::level::warn,
                         "closing connection from {}: request size {} outside [8, {}] (socket.request.max.bytes)",
                         info_->peer, size, opts_.max_request_bytes);
      break;
    }
    // The frame is the request's own buffer (the log stamps offsets into it in place and
    // record views point into it). A request already buffered whole is copied once into
    // a buffer of its size. A larger one gets a buffer that grows (4x, up to the declared
    // size) as its bytes arrive, so a size prefix alone reserves nothing; every byte
    // held is charged to the memory pool first.
    const size_t want = static_cast<size_t>(size);
    size_t have = std::min(rend_ - rpos_, want);
    size_t cap = have == want ? want : std::min(want, std::max(kInitialBodyBytes, have));
    pool_charge charge(pool_);
    if (!co_await acquire(charge, cap)) break;
    auto body = frame_bytes::allocate(cap);
    std::memcpy(body.get(), rbuf_.get() + rpos_, have);
    rpos_ += have;
    if (rpos_ == rend_) rpos_ = rend_ = 0;
    bool failed = false;
    if (have < want) ack_partial_request();
    while (have < want) {
      if (have == cap) {
        const size_t grown = std::min(want, cap * 4);
        if (!co_await acquire(charge, grown - cap)) {
          failed = true;
          break;
        }
        frame_bytes::grow(body, grown);
        cap = grown;
      }
      auto rest = asio::buffer(body.get() + have, cap - have);
      auto [ec2, n2] = co_await on_stream([&](auto& s) { return s.async_read_some(rest, use_nothrow); });
      if (ec2) {
        failed = true;
        break;
      }
      socket_drained_ = n2 < cap - have;
      have += n2;
    }
    if (failed || closed_) break;
    auto frame = std::make_shared<frame_bytes>(std::move(body), want, std::move(charge));
    last_activity_ = std::chrono::steady_clock::now();

    auto s = std::make_shared<slot>();
    s->request_bytes = want;
    inflight_bytes_ += s->request_bytes;
    slots_.push_back(s);
    request req;
    req.frame = std::move(frame);
    req.conn = info_;
    req.reactor = &reactor_;
    std::weak_ptr<connection> weak = self;
    req.done = [weak, s, condemned = condemned_, &r = reactor_](outcome o) mutable {
      // Visible to the reader at once (it may be about to dispatch the next request
      // already buffered), not only when the posted completion runs.
      if (o.what == outcome::kind::close) condemned->store(true, std::memory_order_release);
      r.post([weak, s, o = std::move(o)]() mutable {
        if (auto c = weak.lock()) c->complete(s, std::move(o));
      });
    };
    req.hold_connection = [s] { s->holds = true; };
    handler_.handle(std::move(req));
    while (s->holds && !s->ready && !closed_ && !draining_ && !condemned()) co_await park_reader();
  }
  if (condemned() && !closed_ && !slots_.empty()) {
    // Answer what came before the condemning request, then close (the writer closes at
    // its outcome::close); nothing read after it runs. A request before it may be
    // parked for long (a JoinGroup waits up to its rebalance timeout): if the client
    // hangs up meanwhile, nobody is left to read the answers, so the socket (and
    // everything the connection holds) goes now rather than when they complete.
    draining_ = true;
    while (!closed_ && !slots_.empty()) {
      co_await park_reader(std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
      // (After drain() shut our receive side, poll reports that as a hang-up too.)
      if (!closed_ && !receive_shut_ && peer_gone()) close();
    }
    co_return;
  }
  // When draining with requests in flight, the writer closes after the last one.
  if (!draining_ || slots_.empty()) close();
}

void connection::complete(const std::shared_ptr<slot>& s, outcome o) {
  s->ready = true;
  s->result = std::move(o);
  if (s->holds && reader_blocked_) reader_wakeup_.cancel();
  kick_writer();
}

void connection::pop_slot() {
  inflight_bytes_ -= slots_.front()->request_bytes;
  slots_.pop_front();
}

void connection::kick_writer() {
  if (writer_active_ || closed_) return;
  if (slots_.empty() || !slots_.front()->ready) return;
  writer_active_ = true;
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
}

awaitable<void> connection::write_loop() {
  auto self = shared_from_this();
  while (!closed_ && !slots_.empty() && slots_.front()->ready) {
    // Gather consecutive ready in-memory responses into one write.
    std::vector<asio::const_buffer> batch;
    std::vector<std::shared_ptr<slot>> taken;
    bool close_after = false;
    while (!slots_.empty() && slots_.front()->ready) {
      auto& s = slots_.front();
      if (s->result.what == outcome::kind::close) {
        close_after = true;
        pop_slot();
        break;
      }
      if (s->result.what == outcome::kind::no_response) {
        pop_slot();
        continue;
      }
      if (!s->result.frame.slices.empty()) {
        if (!batch.empty()) break;  // write what we have first, then this one alone
        auto one = s;
        pop_slot();
        if (reader_blocked_) reader_wakeup_.cancel();
        bool ok = co_await write_frame(one->result.frame);
        if (!ok) {
          close();
          co_return;
        }
        batch.clear();
        continue;
      }
      batch.push_back(asio::buffer(s->result.frame.bytes));
      taken.push_back(s);
      pop_slot();
      if (batch.size() >= 64) break;
    }
    if (reader_blocked_) reader_wakeup_.cancel();
    if (!batch.empty()) {
      auto [ec, n] = co_await on_stream([&](auto& s) { return asio::async_write(s, batch, use_nothrow); });
      if (ec) {
        close();
        co_return;
      }
    }
    last_activity_ = std::chrono::steady_clock::now();
    if (close_after) {
      close();
      co_return;
    }
  }
  writer_active_ = false;
  if (draining_ && slots_.empty()) close();
  // A completion may have arrived while we were writing the last batch.
  kick_writer();
}

awaitable<bool> connection::write_frame(response_frame& f) {
  const auto& buf = f.bytes;
  size_t pos = 0;
  for (const auto& ps : f.slices) {
    if (ps.at > pos) {
      auto head = asio::buffer(buf.data() + pos, ps.at - pos);
      auto [ec, n] = co_await on_stream([&](auto& s) { return asio::async_write(s, head, use_nothrow); });
      if (ec) co_return false;
      pos = ps.at;
    }
    if (!co_await send_file_range(ps.slice.fd, static_cast<off_t>(ps.slice.offset), ps.slice.length)) co_return false;
  }
  if (pos < buf.size()) {
    auto tail = asio::buffer(buf.data() + pos, buf.size() - pos);
    auto [ec, n] = co_await on_stream([&](auto& s) { return asio::async_write(s, tail, use_nothrow); });
    if (ec) co_return false;
  }
  co_return true;
}

awaitable<bool> connection::send_file_range(int fd, off_t off, size_t left) {
  if (tls_ || !opts_.use_sendfile) {
    // Through user space, in chunks: a fetch response can carry many MiB.
    constexpr size_t kChunk = 256 * 1024;
    auto chunk = std::make_unique_for_overwrite<uint8_t[]>(std::min(left, kChunk));
    while (left > 0) {
      const size_t want = std::min(left, kChunk);
      ssize_t r = ::pread(fd, chunk.get(), want, off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        STRATA_LOG_LIMITED(spdlog::level::warn, "reading a fetch response for {} failed: {}", info_->peer,
                           r == 0 ? "file truncated" : std::strerror(errno));
        co_return false;
      }
      auto data = asio::buffer(chunk.get(), size_t(r));
      auto [ec, n] = co_await on_stream([&](auto& s) { return asio::async_write(s, data, use_nothrow); });
      if (ec) co_return false;
      off += r;
      left -= size_t(r);
    }
    co_return true;
  }
  // Asio's setter is an ioctl(FIONBIO) every time; its getter reads Asio's own flag.
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true);
  while (left > 0) {
    ssize_t r = ::sendfile(socket_.native_handle(), fd, &off, left);
    if (r > 0) {
      left -= static_cast<size_t>(r);
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto [ec] = co_await socket_.async_wait(asio::socket_base::wait_write, use_nothrow);
      if (ec) co_return false;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      // r == 0: the file is shorter than promised (truncated underneath us).
      // The frame's size prefix is already out, so the only safe move is to
      // close the connection.
      STRATA_LOG_LIMITED(spdlog::level::warn, "sendfile to {} failed: {}", info_->peer,
                         r == 0 ? "file truncated" : std::strerror(errno));
      co_return false;
    }
  }
  co_return true;
}

awaitable<void> connection::idle_watch() {
  auto self = shared_from_this();
  const auto idle = std::chrono::milliseconds(opts_.idle_timeout_ms);
  while (!closed_) {
    idle_timer_.expires_after(std::min<std::chrono::milliseconds>(idle, std::chrono::milliseconds(60'000)));
    co_await idle_timer_.async_wait(use_nothrow);
    if (closed_) co_return;
    if (slots_.empty() && std::chrono::steady_clock::now() - last_activity_ >= idle) {
      STRATA_LOG_LIMITED(spdlog::level::info, "closing idle connection from {} (connections.max.idle.ms={})",
                         info_->peer, opts_.idle_timeout_ms);
      close();
      co_return;
    }
  }
}

}  // namespace strata::net
