#include "net/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "base/log_limiter.h"
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
  std::atomic<int64_t> active{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<bool> stopping{false};
  bool started = false;  // reactor threads running
  std::shared_ptr<memory_pool> pool;

  // Per reactor: its live connections (touched on that reactor only).
  std::vector<std::set<std::shared_ptr<connection>>> live;

  // max.connections: accept loops wait on this (on reactor 0; it never expires, a close
  // cancels the wait).
  std::unique_ptr<asio::steady_timer> slot_free;
  // max.connection.creation.rate: a token bucket refilled at the rate, holding at most
  // one second's worth (touched on reactor 0 only).
  double tokens = 0;
  std::chrono::steady_clock::time_point tokens_at{};
  // max.connections.per.ip: live connections per client address.
  std::mutex ip_mu;
  std::unordered_map<std::string, int32_t> per_ip;
  std::unordered_map<std::string, int32_t> ip_overrides;  // resolved addresses
  // A descriptor held back for the accept loop: out of descriptors, it is closed to
  // accept one pending connection and close it at once, instead of leaving clients
  // waiting in the backlog (and the loop spinning on EMFILE).
  int reserve_fd = -1;
  // Closed connections since the last malloc_trim (see trim_loop).
  std::atomic<uint64_t> closed_since_trim{0};
  std::unique_ptr<asio::steady_timer> trim_timer;

  impl(server_options o, request_handler& h)
      : opts(std::move(o)), handler(h), pool(std::make_shared<memory_pool>(opts.queued_max_request_bytes)) {}
  ~impl() {
    if (reserve_fd >= 0) ::close(reserve_fd);
  }

  int32_t ip_limit(const std::string& ip) const {
    auto it = ip_overrides.find(ip);
    return it == ip_overrides.end() ? opts.max_connections_per_ip : it->second;
  }

  bool admit_ip(const std::string& ip, int32_t* limit) {
    *limit = ip_limit(ip);
    if (*limit == INT32_MAX) return true;
    std::lock_guard lk(ip_mu);
    auto& n = per_ip[ip];
    if (n >= *limit) {
      if (n == 0) per_ip.erase(ip);
      return false;
    }
    ++n;
    return true;
  }

  void release_ip(const std::string& ip) {
    if (ip_limit(ip) == INT32_MAX) return;
    std::lock_guard lk(ip_mu);
    auto it = per_ip.find(ip);
    if (it != per_ip.end() && --it->second <= 0) per_ip.erase(it);
  }

  // How long the next accept must wait for max.connection.creation.rate.
  std::chrono::microseconds creation_delay() {
    if (opts.max_connection_creation_rate == INT32_MAX) return {};
    const double rate = opts.max_connection_creation_rate;
    auto now = std::chrono::steady_clock::now();
    tokens = std::min(rate, tokens + std::chrono::duration<double>(now - tokens_at).count() * rate);
    tokens_at = now;
    if (tokens >= 1) return {};
    return std::chrono::microseconds(static_cast<int64_t>((1 - tokens) / rate * 1e6) + 1);
  }

  // Out of descriptors: give up the reserve to accept one pending connection and close
  // it. False when there was no reserve to give.
  bool shed_one(tcp::acceptor& acc) {
    if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (reserve_fd < 0) return false;
    ::close(reserve_fd);
    int fd = ::accept4(acc.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      ++refused;
      ::close(fd);
    }
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return true;
  }

  void connection_gone(const std::string& ip) {
    release_ip(ip);
    --active;
    closed_since_trim.fetch_add(1, std::memory_order_relaxed);
    if (opts.max_connections != INT32_MAX)
      reactors.front()->post([this] {
        if (slot_free) slot_free->cancel();
      });
  }

  // One acceptor per listener (on reactor 0); each connection goes to the
  // next reactor in turn. (SO_REUSEPORT acceptors per reactor would also let
  // a second process bind the same port silently.)
  asio::awaitable<void> accept_loop(tcp::acceptor& acc, const server_options::endpoint& ep, std::string name) {
    const auto nothrow = asio::as_tuple(asio::use_awaitable);
    unsigned next = 0;
    for (;;) {
      // max.connections: new connections stay in the listen backlog until one closes
      // (Kafka's acceptor blocks the same way).
      while (active.load() >= opts.max_connections && !stopping) {
        STRATA_LOG_LIMITED(spdlog::level::info, "max.connections ({}) reached: not accepting on {} until one closes",
                           opts.max_connections, name);
        co_await slot_free->async_wait(nothrow);
      }
      if (stopping) co_return;
      // max.connection.creation.rate: delay the accept (Kafka throttles its acceptor).
      if (auto delay = creation_delay(); delay.count() > 0) {
        asio::steady_timer t(acc.get_executor(), delay);
        co_await t.async_wait(nothrow);
        continue;  // recheck the limits
      }
      const unsigned ri = next++ % static_cast<unsigned>(reactors.size());
      net::reactor& r = *reactors[ri];
      auto [ec, sock] = co_await acc.async_accept(r.context(), nothrow);
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        if (ec.value() == EMFILE || ec.value() == ENFILE) {
          rlimit rl{};
          ::getrlimit(RLIMIT_NOFILE, &rl);
          STRATA_LOG_LIMITED(spdlog::level::warn,
                             "accept failed on {}: too many open files{} (limit {}, from getrlimit); new connections "
                             "are closed at once until descriptors are freed",
                             name, ec.value() == ENFILE ? " in the system" : "", static_cast<uint64_t>(rl.rlim_cur));
          if (shed_one(acc)) continue;
        } else {
          STRATA_LOG_LIMITED(spdlog::level::warn, "accept failed on {}: {}", name, ec.message());
        }
        // Back off briefly, keep serving the connections we have.
        asio::steady_timer t(acc.get_executor(), std::chrono::milliseconds(50));
        co_await t.async_wait(nothrow);
        continue;
      }
      if (opts.max_connection_creation_rate != INT32_MAX) tokens -= 1;
      boost::system::error_code rec;
      auto rep = sock.remote_endpoint(rec);
      std::string ip = rec ? std::string("?") : rep.address().to_string();
      int32_t limit = 0;
      if (!admit_ip(ip, &limit)) {
        // Kafka closes it at once (TooManyConnectionsException).
        ++refused;
        STRATA_LOG_LIMITED(spdlog::level::info, "closing connection from {}: max.connections.per.ip ({}) reached",
                           ip, limit);
        boost::system::error_code cec;
        sock.close(cec);
        continue;
      }
      ++accepted;
      ++active;
      // The connection lives on reactor ri from here on.
      asio::post(r.context(), [this, ri, sock = std::move(sock), &ep, ip = std::move(ip)]() mutable {
        uint64_t id = next_id++;
        connection_hooks hooks;
        auto holder = std::make_shared<std::shared_ptr<connection>>();
        hooks.on_close = [this, ri, holder, ip = std::move(ip)] {
          live[ri].erase(*holder);
          connection_gone(ip);
        };
        hooks.pool = pool;
        auto c = std::make_shared<connection>(std::move(sock), *reactors[ri], opts, handler, id, ep.name, ep.tls,
                                              std::move(hooks));
        *holder = c;
        live[ri].insert(c);
        c->start();
      });
    }
  }

  // Memory freed by closed connections (their buffers, coroutine frames, sockets) sits
  // in malloc's free lists, spread over the reactors' arenas, and glibc gives back only
  // the top of each heap: after a wave of connections the broker's RSS stayed at its
  // peak. After many closes, malloc_trim returns the free pages of every arena.
  asio::awaitable<void> trim_loop() {
    for (;;) {
      trim_timer->expires_after(std::chrono::seconds(2));
      auto [ec] = co_await trim_timer->async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || stopping) co_return;
      if (closed_since_trim.load(std::memory_order_relaxed) >= kTrimAfterCloses) {
        closed_since_trim.store(0, std::memory_order_relaxed);
        ::malloc_trim(0);
      }
    }
  }
  static constexpr uint64_t kTrimAfterCloses = 1000;
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
  for (const auto& [host, count] : im.opts.max_connections_per_ip_overrides) {
    // A host name stands for each of its addresses (Kafka resolves it too).
    boost::system::error_code ec;
    tcp::resolver resolver(r0.context());
    auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty())
      throw std::system_error(ec, fmt::format("max.connections.per.ip.overrides: cannot resolve '{}'", host));
    for (const auto& re : results) im.ip_overrides[re.endpoint().address().to_string()] = count;
  }
  im.reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  im.slot_free = std::make_unique<asio::steady_timer>(r0.context(), std::chrono::steady_clock::time_point::max());
  im.trim_timer = std::make_unique<asio::steady_timer>(r0.context());
  im.tokens = im.opts.max_connection_creation_rate;
  im.tokens_at = std::chrono::steady_clock::now();
  asio::co_spawn(r0.context(), im.trim_loop(), asio::detached);
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
      if (ri == 0) {
        for (auto& acc : im.acceptors) {
          boost::system::error_code ec;
          acc->close(ec);
        }
        if (im.slot_free) im.slot_free->cancel();
        if (im.trim_timer) im.trim_timer->cancel();
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
uint64_t server::active_connections() const { return static_cast<uint64_t>(std::max<int64_t>(0, impl_->active.load())); }
uint64_t server::total_refused() const { return impl_->refused.load(); }
int64_t server::request_memory_used() const { return impl_->pool->used(); }
uint64_t server::total_accepted() const { return impl_->accepted.load(); }

}  // namespace strata::net
