// The listener's sockets and coroutines (Asio + Beast's async I/O); message
// handling shared with respond_to_bytes is in http_message.cc. Asio's
// implementation comes from net/asio_impl.cc.
#include "admin/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <system_error>
#include <thread>

#include "admin/http_message.h"
#include "admin/router.h"

namespace strata::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct http_server::impl {
  http_server_options opts;
  router& rt;
  size_t connections = 0;  // touched on the server thread only
  uint16_t port = 0;
  std::optional<asio::io_context> ctx;  // reset last in ~impl: owns every coroutine frame
  std::thread thread;

  impl(http_server_options o, router& r) : opts(std::move(o)), rt(r) { ctx.emplace(1); }
  ~impl() { stop(); }

  void stop() {
    if (thread.joinable()) {
      ctx->stop();
      thread.join();
    }
    // Destroys the suspended coroutines, and with them the acceptor and every
    // connection's socket, while the members they point to still exist.
    ctx.reset();
  }

  asio::awaitable<void> accept_loop(tcp::acceptor acc) {
    for (;;) {
      auto [ec, sock] = co_await acc.async_accept(kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        // EMFILE and friends: back off briefly, keep serving.
        spdlog::warn("admin listener: accept failed: {}", ec.message());
        asio::steady_timer t(acc.get_executor(), std::chrono::milliseconds(100));
        co_await t.async_wait(kTuple);
        continue;
      }
      if (connections >= opts.max_connections) {
        // Best effort, never blocking this thread: a short 503, then close.
        static constexpr std::string_view busy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        boost::system::error_code ignored;
        sock.non_blocking(true, ignored);
        sock.write_some(asio::buffer(busy.data(), busy.size()), ignored);
        sock.close(ignored);
        continue;
      }
      ++connections;
      asio::co_spawn(*ctx, session(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket sock) {
    struct count_guard {
      size_t& n;
      ~count_guard() { --n; }
    } guard{connections};
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buf;
    for (;;) {
      request_parser parser;
      prepare(parser, opts);
      stream.expires_after(opts.timeout);
      auto [ec, n] = co_await http::async_read(stream, buf, parser, kTuple);
      if (ec) {
        if (is_parse_error(ec)) {
          response res = make_response(parse_error_reply(ec), 11, false);
          stream.expires_after(opts.timeout);
          co_await http::async_write(stream, res, kTuple);
        }
        break;  // timeouts, resets and closes end the connection quietly
      }
      const bool keep_alive = parser.get().keep_alive();
      response res = make_response(dispatch(rt, parser), parser.get().version(), keep_alive);
      stream.expires_after(opts.timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
      if (wec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

http_server::http_server(http_server_options opts, router& r) : impl_(std::make_unique<impl>(std::move(opts), r)) {}

http_server::~http_server() = default;

void http_server::start() {
  auto& im = *impl_;
  boost::system::error_code ec;
  const std::string host = im.opts.host.empty() ? "0.0.0.0" : im.opts.host;
  tcp::resolver resolver(*im.ctx);
  auto results = resolver.resolve(host, std::to_string(im.opts.port), ec);
  if (ec || results.empty())
    throw std::system_error(ec, fmt::format("cannot resolve admin listener host '{}'", host));
  tcp::endpoint endpoint = results.begin()->endpoint();
  tcp::acceptor acc(*im.ctx);
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, fmt::format("cannot listen on http://{}:{}", host, im.opts.port));
  im.port = acc.local_endpoint().port();
  asio::co_spawn(*im.ctx, im.accept_loop(std::move(acc)), asio::detached);
  im.thread = std::thread([&im] {
    for (;;) {
      try {
        im.ctx->run();
        return;
      } catch (const std::exception& e) {
        // Nothing below should throw out of run(); if it does, keep serving.
        spdlog::error("admin listener: {}", e.what());
      }
    }
  });
}

uint16_t http_server::port() const { return impl_->port; }

void http_server::stop() { impl_->stop(); }

}  // namespace strata::admin
