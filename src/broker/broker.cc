#include "broker/broker.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "broker/handlers/common.h"

#include "base/log_limiter.h"
#include "broker/api_table.h"
#include "broker/cluster_member.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_log.h"
#include "broker/producer_ids.h"
#include "group/group_coordinator.h"
#include "net/server.h"
#include "protocol/frame.h"
#include "protocol/generated/messages.h"

namespace strata::broker {
namespace {

// One metrics shard per reactor.
unsigned metrics_shards(const config::broker_config& cfg) {
  return net::reactor_count(static_cast<unsigned>(cfg.get_int("num.network.threads")));  // 0..1024
}

}  // namespace

broker::broker(config::broker_config& cfg, cluster::metadata_store& store, storage::log_manager& logs)
    : cfg_(cfg),
      store_(store),
      logs_(logs),
      replicas_(cfg.broker_id()),
      topics_(cfg, store, logs, replicas_, metadata_),
      pids_(std::make_unique<producer_ids>(cfg.log_dirs().front())),
      request_stats_(supported_apis().size(), metrics_shards(cfg)),
      advertised_(cfg.advertised_listeners()),
      flush_on_ack_(cfg.get_bool("strata.log.flush.on.ack")),
      validate_records_(cfg.get_bool("strata.produce.validate.records")),
      fetch_max_bytes_(static_cast<int32_t>(cfg.get_int("fetch.max.bytes"))) {
  group::coordinator_config gc;
  gc.offsets_partitions = static_cast<int32_t>(cfg.get_int("offsets.topic.num.partitions"));
  gc.min_session_timeout_ms = static_cast<int32_t>(cfg.get_int("group.min.session.timeout.ms"));
  gc.max_session_timeout_ms = static_cast<int32_t>(cfg.get_int("group.max.session.timeout.ms"));
  gc.initial_rebalance_delay_ms = static_cast<int32_t>(cfg.get_int("group.initial.rebalance.delay.ms"));
  gc.offsets_retention_ms = cfg.get_int("offsets.retention.minutes") * 60'000;
  gc.offsets_retention_check_ms = cfg.get_int("offsets.retention.check.interval.ms");
  gc.max_group_size = static_cast<int32_t>(cfg.get_int("group.max.size"));
  // In a cluster a broker coordinates the groups of the offsets partitions it leads.
  gc.owns_every_partition = cfg.get("zookeeper.connect").empty();
  offsets_ = std::make_unique<offsets_log>(*this);
  groups_ = std::make_unique<group::group_coordinator>(gc, *offsets_);
  publish_self();
}

void broker::publish_self() {
  cluster::broker_info self;
  self.id = node_id();
  for (const auto& a : advertised_) self.endpoints.push_back({a.name, a.host, a.port});
  std::map<int32_t, cluster::broker_info> brokers;
  brokers[self.id] = std::move(self);
  // In a cluster the controller's UpdateMetadata names the controller (and the others).
  metadata_.set_brokers(std::move(brokers), cfg_.get("zookeeper.connect").empty() ? node_id() : -1);
}

broker::~broker() {
  stop_worker();
  groups_->stop();
}

void broker::stop_worker() {
  controller_lane_.stop();
  group_loader_.stop();  // after the lane that queues its work
  worker_.stop();
}

void broker::run_blocking(std::function<void()> fn) { worker_.run(std::move(fn)); }

void broker::run_controller_request(std::function<void()> fn) { controller_lane_.run(std::move(fn)); }

void broker::run_group_load(std::function<void()> fn) { group_loader_.run(std::move(fn)); }

void broker::log_dir_failed(const storage::log_manager::dir_failure& f) {
  // The log manager calls from whatever thread met the error (a reactor, a fetcher,
  // a flusher): the rest runs on the lane that applies the controller's requests, so
  // it is ordered with LeaderAndIsr.
  run_controller_request([this, f] {
    for (const auto& [topic, index] : f.partitions) {
      auto p = replicas_.get(topic, index);
      if (!p) continue;
      p->wake_all();
      // Its groups move with the partition's leadership (Kafka's onResignation).
      if (topic == kOffsetsTopic && p->is_leader())
        run_group_load([this, p] { offsets_->leadership_changed(p, false); });
    }
    topics_.partitions_went_offline(f.partitions);
    if (cluster_) cluster_->log_dir_failed(f);
  });
}

broker::endpoint broker::advertised(const std::string& listener) const {
  for (const auto& a : advertised_)
    if (a.name == listener) return {a.host, a.port};
  // Requests always come in on a configured listener; this is for callers without one
  // (the admin HTTP listener's cluster view).
  return {advertised_.front().host, advertised_.front().port};
}

void broker::set_bound_port(const std::string& listener, int32_t port) {
  for (auto& a : advertised_)
    if (a.name == listener && a.port == 0) a.port = static_cast<uint16_t>(port);
  publish_self();
}

void broker::start_groups() {
  size_t n = offsets_->replay(*groups_);
  if (n > 0) spdlog::info("loaded {} record(s) of {}: {} group(s)", n, kOffsetsTopic, groups_->group_count());
  groups_->start();
}

void broker::begin_shutdown() {
  shutting_down_ = true;
  groups_->stop();
  auto snap = topics_.snapshot();
  for (const auto& [name, t] : *snap)
    for (const auto& p : t->partitions)
      if (p) p->wake_all();
}

void broker::handle(net::request req) {
  request_context ctx;
  ctx.arrived = std::chrono::steady_clock::now();
  ctx.b = this;
  // The header version follows from key and version (an ApiVersions request
  // at a version we do not know is read with the newest header, as Kafka does).
  const auto& frame = *req.frame;
  const auto f = protocol::decode_request_frame(protocol::bytes_view(frame.data(), frame.size()));
  ctx.api_key = f.api_key();
  ctx.api_version = f.api_version();
  ctx.correlation_id = f.correlation_id();
  ctx.req = std::move(req);  // moves the shared frame: `f` still points into it
  const api_entry* api = f.error == protocol::frame_error::malformed ? nullptr : find_api(ctx.api_key);
  if (!api) {
    // Kafka closes the connection on an API key it does not know.
    if (f.error == protocol::frame_error::malformed)
      STRATA_LOG_LIMITED(spdlog::level::warn, "closing connection from {}: malformed request header", ctx.peer());
    else
      STRATA_LOG_LIMITED(spdlog::level::warn, "closing connection from {}: unsupported API key {}", ctx.peer(),
                         ctx.api_key);
    ctx.close_connection();
    return;
  }
  ctx.api_index = static_cast<int>(api - supported_apis().data());
  const bool api_versions_req = ctx.api_key == static_cast<int16_t>(protocol::api_key::api_versions);
  const bool version_ok = ctx.api_version >= api->min_version && ctx.api_version <= api->max_version;
  ctx.client_id = f.header.client_id;
  ctx.body = protocol::reader(f.body);
  if (!version_ok) {
    if (api_versions_req) {
      handlers::api_versions_unsupported(std::move(ctx));
      return;
    }
    STRATA_LOG_LIMITED(spdlog::level::warn, "closing connection from {}: {} v{} is not supported (supported {}-{})",
                       ctx.peer(), api_name(ctx.api_key), ctx.api_version, api->min_version, api->max_version);
    ctx.close_connection();
    return;
  }
  try {
    api->fn(std::move(ctx));
  } catch (const std::exception& e) {
    // A handler must not throw; if one does, the request is lost and the
    // connection is the only safe thing to give up.
    STRATA_LOG_LIMITED(spdlog::level::err, "{} v{} from {} failed: {}", api_name(ctx.api_key), ctx.api_version,
                       ctx.peer(), e.what());
    if (ctx.req.done) ctx.close_connection();
  }
}

}  // namespace strata::broker
