#include "broker/run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <string>
#include <filesystem>
#include <memory>
#include <optional>

#include "admin/http_server.h"
#include "admin/router.h"
#include "broker/admin_source.h"
#include "broker/broker.h"
#include "broker/cluster_member.h"
#include "zk/zk_metadata_store.h"
#include "broker/listener_tls.h"
#include "config/config_error.h"
#include "cluster/local_metadata_store.h"
#include "net/server.h"
#include "storage/file_cache.h"
#include "storage/log_manager.h"

namespace strata::broker {
namespace {

net::server_options server_options_from(const config::broker_config& cfg) {
  net::server_options so;
  std::shared_ptr<net::tls_context> tls;  // one context serves every SSL listener
  for (const auto& l : cfg.listeners()) {
    if (l.protocol == "SSL" && !tls) {
      try {
        tls = net::make_tls_context(tls_settings_from(cfg));
      } catch (const std::runtime_error& e) {
        throw config::config_error(fmt::format("SSL listener {}: {}", l.name, e.what()));
      }
    }
    so.endpoints.push_back({l.host, l.port, l.name, l.protocol == "SSL" ? tls : nullptr});
  }
  so.reactors = static_cast<unsigned>(cfg.get_int("num.network.threads"));
  so.max_request_bytes = static_cast<int32_t>(cfg.get_int("socket.request.max.bytes"));
  so.max_inflight_per_connection = static_cast<int32_t>(cfg.get_int("queued.max.requests"));
  so.idle_timeout_ms = cfg.get_int("connections.max.idle.ms");
  so.send_buffer_bytes = static_cast<int>(cfg.get_int("socket.send.buffer.bytes"));
  so.receive_buffer_bytes = static_cast<int>(cfg.get_int("socket.receive.buffer.bytes"));
  so.use_sendfile = cfg.get_bool("strata.fetch.sendfile");
  so.queued_max_request_bytes = cfg.get_int("queued.max.request.bytes");
  so.max_connections = static_cast<int32_t>(cfg.get_int("max.connections"));
  so.max_connections_per_ip = static_cast<int32_t>(cfg.get_int("max.connections.per.ip"));
  so.max_connection_creation_rate = static_cast<int32_t>(cfg.get_int("max.connection.creation.rate"));
  for (const auto& item : cfg.get_list("max.connections.per.ip.overrides")) {
    // host:count; the count follows the last ':' (an IPv6 address has its own).
    const auto colon = item.rfind(':');
    int64_t count = -1;
    if (colon != std::string::npos && colon > 0 && colon + 1 < item.size()) {
      try {
        size_t used = 0;
        count = std::stoll(item.substr(colon + 1), &used);
        if (used != item.size() - colon - 1) count = -1;
      } catch (const std::exception&) {
        count = -1;
      }
    }
    if (count < 0 || count > INT32_MAX)
      throw config::config_error(
          fmt::format("max.connections.per.ip.overrides: '{}' is not host:count with a count in [0, {}]", item,
                      INT32_MAX));
    so.max_connections_per_ip_overrides.emplace_back(item.substr(0, colon), static_cast<int32_t>(count));
  }
  return so;
}

storage::log_manager_options storage_options_from(const config::broker_config& cfg) {
  storage::log_manager_options o;
  o.log_dirs = cfg.log_dirs();
  o.retention_check_interval_ms = cfg.get_int("log.retention.check.interval.ms");
  o.high_watermark_checkpoint_interval_ms = cfg.get_int("replica.high.watermark.checkpoint.interval.ms");
  o.flush_threads = static_cast<int>(cfg.get_int("strata.log.flush.threads"));
  o.cleaner_enable = cfg.get_bool("log.cleaner.enable");
  o.cleaner_backoff_ms = cfg.get_int("log.cleaner.backoff.ms");
  o.cleaner_dedupe_buffer_bytes = static_cast<size_t>(cfg.get_int("log.cleaner.dedupe.buffer.size"));
  // Process-wide: the descriptor and mapping budgets of every log (storage/file_cache.h).
  storage::set_file_budgets({static_cast<size_t>(cfg.get_int("strata.log.open.files.max")),
                             static_cast<size_t>(cfg.get_int("strata.log.index.maps.max"))});
  return o;
}

// Starts the admin HTTP listener when strata.admin.listener is set. It comes
// up before the logs are opened so that /health answers "starting" during a
// long recovery. A port that cannot be bound is logged and the broker runs
// without it: the listener is an observer, and tests and tools start many
// brokers on one machine with the default port. A malformed value stops the
// broker (std::invalid_argument naming the key).
std::unique_ptr<admin::http_server> start_admin(const config::broker_config& cfg, admin::router& rt) {
  const std::string& text = cfg.get("strata.admin.listener");
  if (text.empty()) return nullptr;
  admin::http_server_options o = admin::parse_listener(text);
  auto srv = std::make_unique<admin::http_server>(o, rt);
  try {
    srv->start();
  } catch (const std::system_error& e) {
    spdlog::error("admin listener disabled: {}", e.what());
    return nullptr;
  }
  spdlog::info("admin listening on http://{}:{}", o.host.empty() ? "0.0.0.0" : o.host, srv->port());
  return srv;
}

// Points the admin router at the running broker for as long as this lives;
// the destructor waits until no admin request uses the source any more.
class admin_binding {
 public:
  admin_binding(admin::router& rt, admin::source& src) : rt_(rt) { rt_.set_source(&src); }
  ~admin_binding() { rt_.set_source(nullptr); }
  admin_binding(const admin_binding&) = delete;
  admin_binding& operator=(const admin_binding&) = delete;

 private:
  admin::router& rt_;
};

// glibc raises its mmap threshold to the size of every mmapped block freed
// (up to 32 MiB) and its trim threshold to twice that. A request buffer is
// sized by the client's size prefix (up to socket.request.max.bytes), so one
// client sending a few 1-30 MiB prefixes moved every later buffer of that size
// into the reactor arenas, and with the trim threshold at up to 64 MiB those
// arenas never gave memory back: under the TCP fuzz load RSS grew by some
// 20 MB per million frames, 5 with this (docs/RELIABILITY.md). Fixed
// thresholds (setting them turns the adjustment off): blocks of 1 MiB and more
// are mapped and unmapped on their own, and a free arena top over 1 MiB is
// returned.
void pin_malloc_thresholds() {
  constexpr int kMmapThreshold = 1 << 20;
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kMmapThreshold);
}

}  // namespace

int run(config::broker_config& cfg) {
  const auto t0 = std::chrono::steady_clock::now();
  const double start_time_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Signals are taken by sigwait on this thread; every thread started below
  // inherits the mask. SIGPIPE (a peer gone during sendfile) is ignored.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  pin_malloc_thresholds();

  try {
    admin::router admin_router(start_time_s);
    auto admin_listener = start_admin(cfg, admin_router);
    const std::string& dir = cfg.log_dirs().front();
    for (const auto& d : cfg.log_dirs()) std::filesystem::create_directories(d);
    // The log manager locks every log directory first (<dir>/.lock), so two
    // brokers never share one; the metadata store lives in the first.
    storage::log_manager logs(storage_options_from(cfg));
    auto opened = logs.open_all();
    if (opened.error) throw std::runtime_error("cannot open the logs: " + opened.error.message());
    // zookeeper.connect set: the cluster's metadata lives in ZooKeeper (Kafka's layout);
    // otherwise in the data directory (a single node, no other process needed).
    std::unique_ptr<cluster_member> member;
    std::unique_ptr<zk::zk_metadata_store> zk_store;
    std::optional<cluster::local_metadata_store> local_store;
    if (!cfg.get("zookeeper.connect").empty()) {
      member = std::make_unique<cluster_member>(cfg);
      zk_store = std::make_unique<zk::zk_metadata_store>(member->zk(), member->cluster_id());
    } else {
      local_store.emplace(dir);
    }
    cluster::metadata_store& store = zk_store ? static_cast<cluster::metadata_store&>(*zk_store) : *local_store;
    logs.start();
    broker b(cfg, store, logs);
    b.set_cluster(member.get());
    // Run-time log dir failures (KIP-112). With none left the broker stops, as Kafka
    // halts: SIGTERM to itself ends the sigwait below, and the exit code says why.
    std::atomic<bool> no_log_dirs{false};
    struct handler_reset {  // b goes before the log manager, also when startup throws
      storage::log_manager& l;
      ~handler_reset() { l.set_dir_failure_handler({}); }
    } reset_handler{logs};
    logs.set_dir_failure_handler([&b, &no_log_dirs](const storage::log_manager::dir_failure& f) {
      if (f.all_offline) {
        if (!no_log_dirs.exchange(true)) {
          spdlog::critical("every log directory is offline (the last, {}: {}); stopping the broker", f.dir, f.reason);
          ::kill(::getpid(), SIGTERM);
        }
        return;
      }
      b.log_dir_failed(f);
    });
    b.topics().load();
    b.start_groups();

    net::server srv(server_options_from(cfg), b);
    srv.start();
    auto ports = srv.bound_ports();
    // Port 0 (tests) resolves once bound: a listener advertised with port 0 gets its own.
    for (size_t i = 0; i < cfg.listeners().size() && i < ports.size(); ++i) b.set_bound_port(cfg.listeners()[i].name, ports[i]);
    // Registered once clients can connect: the controller sends its requests at once.
    if (member) member->start(b);

    admin_source admin_src(b, srv);
    std::optional<admin_binding> admin_bound(std::in_place, admin_router, admin_src);
    admin_router.set_health(admin::health::ready);

    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    auto snap = b.topics().snapshot();
    size_t partitions = 0;
    for (const auto& [n, t] : *snap) partitions += t->partitions.size();
    for (size_t i = 0; i < cfg.listeners().size(); ++i) {
      const auto& l = cfg.listeners()[i];
      spdlog::info("listening on {}://{}:{}", l.name, l.host.empty() ? "0.0.0.0" : l.host, ports[i]);
    }
    spdlog::info("strata broker {} started in {:.1f} ms: cluster {}, {} topic(s), {} partition(s), data in {}{}",
                 cfg.broker_id(), elapsed.count() / 1000.0, store.cluster_id(), snap->size(), partitions,
                 std::filesystem::absolute(dir).lexically_normal().string(), opened.recovered > 0
                     ? fmt::format(" ({} partition(s) recovered after an unclean shutdown)", opened.recovered)
                     : std::string());

    int sig = 0;
    sigwait(&sigs, &sig);
    logs.set_dir_failure_handler({});  // b goes before the log manager
    if (!no_log_dirs) spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    admin_router.set_health(admin::health::shutting_down);
    // Deregister first: the controller moves this broker's leaderships while it still
    // answers (clients see retriable errors, then the new leaders).
    if (member) {
      member->controlled_shutdown();
      member->stop();
    }
    b.begin_shutdown();
    srv.stop(5000);
    b.stop_worker();
    admin_bound.reset();  // the admin API stops reading the logs before they close
    logs.shutdown();
    if (admin_listener) admin_listener->stop();
    spdlog::info("shutdown complete");
    return no_log_dirs ? 1 : 0;
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return 1;
  }
}

}  // namespace strata::broker
