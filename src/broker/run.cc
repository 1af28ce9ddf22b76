#include "broker/run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "broker/broker.h"
#include "cluster/local_metadata_store.h"
#include "net/server.h"
#include "storage/log_manager.h"

namespace strata::broker {
namespace {

net::server_options server_options_from(const config::broker_config& cfg) {
  net::server_options so;
  for (const auto& l : cfg.listeners()) so.endpoints.push_back({l.host, l.port, l.name});
  so.reactors = static_cast<unsigned>(cfg.get_int("num.network.threads"));
  so.max_request_bytes = static_cast<int32_t>(cfg.get_int("socket.request.max.bytes"));
  so.max_inflight_per_connection = static_cast<int32_t>(cfg.get_int("queued.max.requests"));
  so.idle_timeout_ms = cfg.get_int("connections.max.idle.ms");
  so.send_buffer_bytes = static_cast<int>(cfg.get_int("socket.send.buffer.bytes"));
  so.receive_buffer_bytes = static_cast<int>(cfg.get_int("socket.receive.buffer.bytes"));
  so.use_sendfile = cfg.get_bool("strata.fetch.sendfile");
  return so;
}

storage::log_manager_options storage_options_from(const config::broker_config& cfg) {
  storage::log_manager_options o;
  o.log_dirs = cfg.log_dirs();
  o.retention_check_interval_ms = cfg.get_int("log.retention.check.interval.ms");
  o.flush_threads = static_cast<int>(cfg.get_int("strata.log.flush.threads"));
  return o;
}

}  // namespace

int run(config::broker_config& cfg) {
  const auto t0 = std::chrono::steady_clock::now();
  // Signals are taken by sigwait on this thread; every thread started below
  // inherits the mask. SIGPIPE (a peer gone during sendfile) is ignored.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  try {
    const std::string& dir = cfg.log_dirs().front();
    for (const auto& d : cfg.log_dirs()) std::filesystem::create_directories(d);
    // The log manager locks every log directory first (<dir>/.lock), so two
    // brokers never share one; the metadata store lives in the first.
    storage::log_manager logs(storage_options_from(cfg));
    auto opened = logs.open_all();
    if (opened.error) throw std::runtime_error("cannot open the logs: " + opened.error.message());
    cluster::local_metadata_store store(dir);
    logs.start();
    broker b(cfg, store, logs);
    b.topics().load();
    b.start_groups();

    net::server srv(server_options_from(cfg), b);
    srv.start();
    auto ports = srv.bound_ports();
    if (cfg.advertised_listeners().front().port == 0 && !ports.empty()) b.set_advertised_port(ports.front());

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
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    b.begin_shutdown();
    srv.stop(5000);
    logs.shutdown();
    spdlog::info("shutdown complete");
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return 1;
  }
}

}  // namespace strata::broker
