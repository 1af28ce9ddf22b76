#include "net/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "net/connection.h"
#include "net/reactor.h"

namespace strata::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct server::impl {
  server_options opts;
  request_handler& handler;
  std::vector<std::unique_ptr<net::reactor>> reactors;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // one per endpoint, on reactor 0
  std::vector<uint16_t> ports;
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint64_t> active{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<bool> stopping{false};
  bool started = false;  // reactor threads running

  // Per reactor: its live connections (touched on that reactor only).
  std::vector<std::set<std::shared_ptr<connection>>> live;

  impl(server_options o, request_handler& h) : opts(std::move(o)), handler(h) {}

  // One acceptor per listener (on reactor 0); each connection goes to the
  // next reactor in turn. (SO_REUSEPORT acceptors per reactor would also let
  // a second process bind the same port silently.)
  asio::awaitable<void> accept_loop(tcp::acceptor& acc, const server_options::endpoint& ep, std::string name) {
    unsigned next = 0;
    for (;;) {
      const unsigned ri = next++ % static_cast<unsigned>(reactors.size());
      net::reactor& r = *reactors[ri];
      auto [ec, sock] = co_await acc.async_accept(r.context(), asio::as_tuple(asio::use_awaitable));
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        // EMFILE and friends: log, back off briefly, keep serving.
        spdlog::warn("accept failed on {}: {}", name, ec.message());
        asio::steady_timer t(acc.get_executor(), std::chrono::milliseconds(50));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      ++accepted;
      ++active;
      // The connection lives on reactor ri from here on.
      asio::post(r.context(), [this, ri, sock = std::move(sock), &ep]() mutable {
        uint64_t id = next_id++;
        connection_hooks hooks;
        auto holder = std::make_shared<std::shared_ptr<connection>>();
        hooks.on_close = [this, ri, holder] {
          --active;
          live[ri].erase(*holder);
        };
        auto c = std::make_shared<connection>(std::move(sock), *reactors[ri], opts, handler, id, ep.name, ep.tls,
                                              std::move(hooks));
        *holder = c;
        live[ri].insert(c);
        c->start();
      });
    }
  }
};

unsigned reactor_count(unsigned requested) {
  return requested ? requested : std::max(1u, std::thread::hardware_concurrency());
}

server::server(server_options opts, request_handler& handler)
    : impl_(std::make_unique<impl>(std::move(opts), handler)) {
  const unsigned n = net::reactor_count(impl_->opts.reactors);
  for (unsigned i = 0; i < n; ++i) impl_->reactors.push_back(std::make_unique<net::reactor>(i));
  impl_->live.resize(n);
}

server::~server() { stop(0); }

void server::start() {
  auto& im = *impl_;
  net::reactor& r0 = *im.reactors.front();
  for (const auto& ep : im.opts.endpoints) {
    boost::system::error_code ec;
    tcp::resolver resolver(r0.context());
    std::string host = ep.host.empty() ? "0.0.0.0" : ep.host;
    auto results = resolver.resolve(host, std::to_string(ep.port), ec);
    if (ec || results.empty()) throw std::system_error(ec, fmt::format("cannot resolve listener host '{}'", host));
    tcp::endpoint endpoint = results.begin()->endpoint();
    auto acc = std::make_unique<tcp::acceptor>(r0.context());
    acc->open(endpoint.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(endpoint, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, fmt::format("cannot listen on {}://{}:{}", ep.name, host, ep.port));
    im.ports.push_back(acc->local_endpoint().port());
    im.acceptors.push_back(std::move(acc));
  }
  for (size_t e = 0; e < im.acceptors.size(); ++e) {
    std::string name = fmt::format("{}://{}:{}", im.opts.endpoints[e].name, im.opts.endpoints[e].host, im.ports[e]);
    asio::co_spawn(r0.context(), im.accept_loop(*im.acceptors[e], im.opts.endpoints[e], name), asio::detached);
  }
  for (auto& r : im.reactors) r->start();
  im.started = true;
}

std::vector<uint16_t> server::bound_ports() const { return impl_->ports; }

void server::stop(int64_t drain_ms) {
  auto& im = *impl_;
  if (im.stopping.exchange(true)) return;
  if (!im.started) {
    for (auto& r : im.reactors) r->stop_and_join();
    return;
  }
  // 1. Stop accepting.
  for (unsigned ri = 0; ri < im.reactors.size(); ++ri) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    im.reactors[ri]->post([&, ri] {
      if (ri == 0)
        for (auto& acc : im.acceptors) {
          boost::system::error_code ec;
          acc->close(ec);
        }
      // 2. Let connections answer what is in flight, then close.
      auto conns = im.live[ri];
      for (auto& c : conns) c->drain();
      std::lock_guard lk(m);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lk(m);
    cv.wait_for(lk, std::chrono::seconds(5), [&] { return done; });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while (im.active.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // shutdown only: bounded by drain_ms
  // 3. Close whatever is left and stop the reactors.
  for (unsigned ri = 0; ri < im.reactors.size(); ++ri) {
    im.reactors[ri]->post([&im, ri] {
      auto conns = im.live[ri];
      for (auto& c : conns) c->close();
    });
  }
  for (auto& r : im.reactors) r->stop_and_join();
  for (auto& l : im.live) l.clear();
}

reactor_ref& server::reactor(unsigned i) { return *impl_->reactors[i]; }
unsigned server::reactor_count() const { return static_cast<unsigned>(impl_->reactors.size()); }
uint64_t server::active_connections() const { return impl_->active.load(); }
uint64_t server::total_accepted() const { return impl_->accepted.load(); }

}  // namespace strata::net
