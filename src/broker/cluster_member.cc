#include "broker/cluster_member.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "group/group_coordinator.h"
#include "broker/offsets_log.h"
#include "broker/producer_ids.h"
#include "cluster/broker_epoch.h"
#include "controller/connection_sender.h"
#include "client/broker_connection.h"

namespace strata::broker {
namespace {

using protocol::error_code;

bool contains(const std::vector<int32_t>& v, int32_t id) { return std::find(v.begin(), v.end(), id) != v.end(); }

// Kafka's marker in UpdateMetadata for a partition of a topic being deleted.
constexpr int32_t kLeaderDuringDelete = -2;

template <class T>
T value_or_throw(zk::result<T> r, const char* what) {
  if (!r) throw std::runtime_error(fmt::format("ZooKeeper: {}: {}", what, r.error().message()));
  return std::move(r).value();
}

}  // namespace

cluster_member::cluster_member(const config::broker_config& cfg) : cfg_(cfg) {
  zk::client_options o;
  o.connect = cfg.get("zookeeper.connect");
  o.session_timeout = std::chrono::milliseconds(cfg.get_int("zookeeper.session.timeout.ms"));
  o.connection_timeout = std::chrono::milliseconds(cfg.get_int("zookeeper.connection.timeout.ms"));
  zk_ = std::make_unique<zk::client>(o);
  zk_->connect();  // throws one line naming the connect string and the timeout
  kzk_ = std::make_unique<zk::kafka_zk>(*zk_);
  if (auto r = kzk_->ensure_persistent_paths(); !r)
    throw std::runtime_error("ZooKeeper: creating Kafka's paths: " + r.error().message());
  cluster_id_ = value_or_throw(kzk_->get_or_create_cluster_id(protocol::uuid::random().to_base64()), "cluster id");
}

cluster_member::~cluster_member() { stop(); }

void cluster_member::start(broker& b) {
  b_ = &b;
  auto& replicas = b.replicas();
  cluster::fetcher_config fc;
  fc.broker_id = cfg_.broker_id();
  fc.fetch_max_bytes = static_cast<int32_t>(cfg_.get_int("replica.fetch.max.bytes"));
  fc.fetch_response_max_bytes = static_cast<int32_t>(cfg_.get_int("replica.fetch.response.max.bytes"));
  fc.fetch_wait_max_ms = static_cast<int32_t>(cfg_.get_int("replica.fetch.wait.max.ms"));
  fc.fetch_min_bytes = static_cast<int32_t>(cfg_.get_int("replica.fetch.min.bytes"));
  fc.fetch_backoff_ms = static_cast<int32_t>(cfg_.get_int("replica.fetch.backoff.ms"));
  fc.socket_timeout_ms = static_cast<int32_t>(cfg_.get_int("replica.socket.timeout.ms"));
  fc.num_fetchers = static_cast<int32_t>(cfg_.get_int("num.replica.fetchers"));
  fc.follower_throttled = [&b, self = cfg_.broker_id()](const cluster::partition& p) {
    const auto t = b.topics().find(p.topic());
    return t && t->cfg.follower_throttled_replicas.contains(p.index(), self);
  };
  const int quota_samples = static_cast<int>(cfg_.get_int("replication.quota.window.num"));
  const int64_t quota_window_ms = cfg_.get_int("replication.quota.window.size.seconds") * 1000;
  replicas.leader_quota().configure(quota_samples, quota_window_ms);
  replicas.follower_quota().configure(quota_samples, quota_window_ms);
  replicas.leader_quota().set_limit(cfg_.get_int("leader.replication.throttled.rate"));
  replicas.follower_quota().set_limit(cfg_.get_int("follower.replication.throttled.rate"));
  fetchers_ = std::make_unique<cluster::replica_fetcher_manager>(replicas, fc);
  replicas.set_replica_lag_time_max_ms(cfg_.get_int("replica.lag.time.max.ms"));
  replicas.set_isr_change_handler(
      [this](const std::shared_ptr<cluster::partition>& p, const cluster::partition_state& proposed) {
        on_isr_change(p, proposed);
      });
  // A broker may join an ISR while it is registered (Kafka's isReplicaIsrEligible).
  replicas.set_broker_alive_fn([&b](int32_t id) { return b.metadata().snapshot()->broker(id) != nullptr; });
  listener_id_ = zk_->add_session_listener([this](zk::session_state s) {
    if (s == zk::session_state::expired) {
      // The controller sees this broker gone and elects other leaders: stop leading
      // now, before any client can write to both.
      spdlog::warn("ZooKeeper session expired: no longer acting as leader until registered again");
      if (b_) b_->replicas().resign_leaderships();
    } else if (s == zk::session_state::new_session) {
      writer_.run([this] {
        try {
          register_self();
        } catch (const std::exception& e) {
          spdlog::error("{}", e.what());
        }
      });
      // Watches die with their session: set the config change watch again (and
      // handle what changed while there was none).
      config_worker_.run([this] { watch_config_changes(); });
    }
  });
  b.pids().set_block_source([this]() -> std::optional<producer_ids::block> {
    auto r = kzk_->claim_producer_id_block(cfg_.broker_id());
    if (!r) {
      STRATA_LOG_LIMITED(spdlog::level::warn, "cannot claim a producer id block in ZooKeeper: {}", r.error().message());
      return std::nullopt;
    }
    return std::make_pair(r.value().first, r.value().last);
  });
  register_self();
  controller::controller_config cc;
  cc.broker_id = cfg_.broker_id();
  cc.inter_broker_listener_name = cfg_.get("inter.broker.listener.name");
  cc.unclean_leader_election_enable = cfg_.get_bool("unclean.leader.election.enable");
  cc.auto_leader_rebalance_enable = cfg_.get_bool("auto.leader.rebalance.enable");
  cc.leader_imbalance_check_interval = std::chrono::seconds(cfg_.get_int("leader.imbalance.check.interval.seconds"));
  cc.leader_imbalance_per_broker_percentage = static_cast<int32_t>(cfg_.get_int("leader.imbalance.per.broker.percentage"));
  cc.channel.request_timeout = std::chrono::milliseconds(cfg_.get_int("controller.socket.timeout.ms"));
  controller_ = std::make_unique<controller::controller>(*zk_, cc, controller::connection_sender_factory());
  controller_->start();
  config_worker_.run([this] {
    reload_broker_configs();
    watch_config_changes();
  });
  tasks_ = std::thread([this] { tasks_loop(); });
}

void cluster_member::controlled_shutdown() {
  if (!b_ || !cfg_.get_bool("controlled.shutdown.enable")) return;
  const int64_t retries = cfg_.get_int("controlled.shutdown.max.retries");
  const auto backoff = std::chrono::milliseconds(cfg_.get_int("controlled.shutdown.retry.backoff.ms"));
  const auto timeout = std::chrono::milliseconds(cfg_.get_int("controller.socket.timeout.ms"));
  for (int64_t attempt = 0; attempt <= retries; ++attempt) {
    auto view = b_->metadata().snapshot();
    const auto* ctl = view->broker(view->controller_id);
    if (ctl && !ctl->endpoints.empty()) {
      try {
        const auto deadline = client::clock::now() + timeout;
        client::broker_connection conn({ctl->endpoints.front().host, static_cast<uint16_t>(ctl->endpoints.front().port)},
                                       ctl->id, deadline);
        protocol::controlled_shutdown_request req;
        req.broker_id = cfg_.broker_id();
        req.broker_epoch = broker_epoch_.load();
        auto resp = conn.call<protocol::controlled_shutdown_response>(req, deadline);
        if (resp.error_code == 0 && resp.remaining_partitions.empty()) {
          spdlog::info("controlled shutdown: the controller (broker {}) moved this broker's leaderships", ctl->id);
          return;
        }
        spdlog::warn("controlled shutdown attempt {}: {} ({} partition(s) still led here)", attempt + 1,
                     protocol::error_name(static_cast<error_code>(resp.error_code)), resp.remaining_partitions.size());
      } catch (const std::exception& e) {
        spdlog::warn("controlled shutdown attempt {}: {}", attempt + 1, e.what());
      }
    } else {
      spdlog::warn("controlled shutdown attempt {}: no controller known", attempt + 1);
    }
    if (attempt < retries) std::this_thread::sleep_for(backoff);
  }
  spdlog::warn("controlled shutdown did not complete: stopping anyway");
}

void cluster_member::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  // The controller goes first: another broker takes over while this one still answers.
  if (controller_) controller_->stop();
  if (fetchers_) fetchers_->shutdown();
  writer_.stop();
  config_worker_.stop();
  if (tasks_.joinable()) tasks_.join();
  if (b_) b_->pids().clear_block_source();  // its claims use kzk_
  if (listener_id_ >= 0) zk_->remove_session_listener(listener_id_);
  // Closing the session deletes /brokers/ids/<id> at once: the controller moves this
  // broker's leaderships without waiting for the session timeout.
  if (zk_) zk_->close();
}

void cluster_member::register_self() {
  zk::broker_registration reg;
  reg.id = cfg_.broker_id();
  const auto self = b_->metadata().snapshot()->broker(reg.id);
  for (const auto& l : cfg_.advertised_listeners()) {
    zk::endpoint e;
    e.listener_name = l.name;
    e.security_protocol = l.protocol;
    e.host = l.host.empty() ? "localhost" : l.host;
    e.port = l.port;
    if (self)
      if (const auto* ep = self->endpoint(l.name)) e.port = ep->port;  // a bound port 0
    reg.endpoints.push_back(std::move(e));
  }
  if (const auto& rack = cfg_.get("broker.rack"); !rack.empty()) reg.rack = rack;
  reg.timestamp_ms = now_ms();
  auto r = kzk_->register_broker(reg);
  if (!r && r.error() == zk::kafka_errc::broker_already_registered && previous_run_of_self(reg)) {
    // Restarted right after a crash: the earlier run's session still holds the znode
    // until ZooKeeper expires it. Kafka refuses to start here; a supervisor restarting
    // the broker would then loop until the session times out. Waiting for it, bounded
    // by the session timeout, does the same in one start.
    const auto limit = zk_->negotiated_session_timeout() + std::chrono::seconds(2);
    spdlog::info("broker id {} is still registered by an earlier session at the same address (a restart after a "
                 "crash?): waiting up to {} ms for ZooKeeper to expire it",
                 reg.id, limit.count());
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!r && r.error() == zk::kafka_errc::broker_already_registered &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval of a bounded wait
      r = kzk_->register_broker(reg);
    }
  }
  if (!r) {
    throw std::runtime_error(fmt::format("cannot register broker.id {} in ZooKeeper: {}", reg.id,
                                         r.error().message()));
  }
  broker_epoch_ = r.value();
  spdlog::info("registered as broker {} in ZooKeeper (cluster {}, broker epoch {})", reg.id, cluster_id_,
               r.value());
}

bool cluster_member::previous_run_of_self(const zk::broker_registration& reg) {
  // The same endpoints as ours, which this process has bound: whoever registered them
  // is no longer listening there, so it is an earlier run of this broker, not another
  // broker configured with the same id (that one fails at once).
  auto existing = kzk_->get_broker(reg.id);
  return existing && existing.value() && existing.value()->endpoints == reg.endpoints;
}

error_code cluster_member::accept_controller(int32_t epoch, int64_t broker_epoch) {
  // KIP-380: a request meant for an earlier registration of this broker id is stale.
  // A later one is not: the controller can see a new registration (and send for it)
  // before register_self has stored the epoch ZooKeeper gave it, and a request
  // refused then is never sent again (found by the fault suite: a broker back from
  // an isolation refused its first LeaderAndIsr and stayed out of every ISR).
  if (cluster::is_stale_broker_epoch(broker_epoch, broker_epoch_.load())) return error_code::stale_broker_epoch;
  std::lock_guard lk(epoch_mu_);
  if (epoch < controller_epoch_) return error_code::stale_controller_epoch;
  controller_epoch_ = epoch;
  return error_code::none;
}

void cluster_member::log_dir_failed(const storage::log_manager::dir_failure& f) {
  std::vector<cluster::topic_partition> tps(f.partitions.begin(), f.partitions.end());
  if (fetchers_) fetchers_->remove_partitions(tps);
  // Kafka's LogDirFailureHandler: one notification per failed directory; the
  // controller's answer is a LeaderAndIsr for every replica here.
  writer_.run([this, dir = f.dir] {
    for (int attempt = 0;; ++attempt) {
      auto r = kzk_->create_log_dir_event_notification(cfg_.broker_id());
      if (r) {
        spdlog::info("log directory {} is offline: told the controller ({})", dir, r.value());
        return;
      }
      spdlog::warn("log directory {} is offline: cannot write the notification to ZooKeeper: {}", dir,
                   r.error().message());
      std::unique_lock lk(mu_);
      if (cv_.wait_for(lk, std::chrono::seconds(1), [this] { return stopping_; }) || attempt >= 30) return;
    }
  });
}

protocol::leader_and_isr_response cluster_member::apply(const protocol::leader_and_isr_request& req, int16_t version) {
  using resp_t = protocol::leader_and_isr_response;
  resp_t resp;
  resp.error_code = ec(error_code::none);
  if (auto stale = accept_controller(req.controller_epoch, req.broker_epoch); stale != error_code::none) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "LeaderAndIsr from controller {} (epoch {}, broker epoch {}) is stale: {}",
                       req.controller_id, req.controller_epoch, req.broker_epoch, protocol::error_name(stale));
    resp.error_code = ec(stale);
    return resp;
  }
  struct item {
    const protocol::leader_and_isr_request::leader_and_isr_partition_state* ps;
    std::string topic;
    protocol::uuid id;
  };
  std::vector<item> items;
  for (const auto& ps : req.ungrouped_partition_states) items.push_back({&ps, ps.topic_name, {}});
  for (const auto& ts : req.topic_states)
    for (const auto& ps : ts.partition_states) items.push_back({&ps, ts.topic_name, ts.topic_id});

  const int32_t self = cfg_.broker_id();
  auto& replicas = b_->replicas();
  // Where each leader is: the request names the live ones; the metadata cache knows
  // the rest.
  std::map<int32_t, cluster::source_broker> leaders;
  for (const auto& l : req.live_leaders) leaders[l.broker_id] = {l.broker_id, l.host_name, static_cast<uint16_t>(l.port)};
  std::map<int32_t, std::vector<cluster::follower_partition>> follow;
  std::vector<cluster::topic_partition> unfollow;
  std::map<protocol::uuid, resp_t::leader_and_isr_topic_error> by_topic;
  for (const auto& it : items) {
    const auto& ps = *it.ps;
    cluster::partition_state st;
    st.leader = ps.leader;
    st.leader_epoch = ps.leader_epoch;
    st.partition_epoch = ps.partition_epoch;
    st.controller_epoch = ps.controller_epoch;
    st.replicas = ps.replicas;
    st.isr = ps.isr;
    error_code err = error_code::none;
    if (!contains(st.replicas, self)) {
      err = error_code::unknown_topic_or_partition;
    } else {
      topic_error te;
      auto p = b_->topics().ensure_replica(it.topic, ps.partition_index, te, ps.is_new);
      if (!p) {
        err = te.code;
        STRATA_LOG_LIMITED(spdlog::level::warn, "LeaderAndIsr for {}-{}: {}", it.topic, ps.partition_index, te.message);
      } else if (!p->online()) {
        // KIP-112: the controller takes this replica as offline (offline_replicas,
        // out of the ISR, leadership elsewhere); nothing is fetched for it.
        err = error_code::kafka_storage_error;
        unfollow.push_back({it.topic, ps.partition_index});
      } else {
        const auto cur = p->state();
        const bool same_epoch = st.leader_epoch == cur.leader_epoch && p->role() != cluster::replica_role::none;
        std::error_code e;
        if (st.leader_epoch < cur.leader_epoch) {
          err = error_code::stale_controller_epoch;
        } else if (same_epoch && st.leader == cur.leader) {
          // Same leadership, newer ISR or partition epoch (the controller's view).
          if (st.partition_epoch >= cur.partition_epoch) replicas.isr_committed(*p, st, now_ms());
        } else if (st.leader == self) {
          unfollow.push_back({it.topic, ps.partition_index});
          e = replicas.become_leader(*p, st);
          if (!e) spdlog::info("{}-{}: leader in epoch {}, ISR {}", it.topic, ps.partition_index, st.leader_epoch,
                               fmt::join(st.isr, ","));
        } else {
          unfollow.push_back({it.topic, ps.partition_index});
          e = replicas.become_follower(*p, st);
          if (!e && st.leader >= 0) follow[st.leader].push_back({p, it.id});
          if (!e) spdlog::info("{}-{}: follower of broker {} in epoch {}", it.topic, ps.partition_index, st.leader,
                               st.leader_epoch);
        }
        if (e) err = error_code::stale_controller_epoch;
        if (!e && it.topic == kOffsetsTopic)
          b_->run_group_load([b = b_, p, leader = p->is_leader()] { b->offsets().leadership_changed(p, leader); });
      }
    }
    if (version < 5) {
      resp_t::leader_and_isr_partition_error pe;
      pe.topic_name = it.topic;
      pe.partition_index = ps.partition_index;
      pe.error_code = ec(err);
      resp.partition_errors.push_back(std::move(pe));
    } else {
      auto& te = by_topic[it.id];
      te.topic_id = it.id;
      resp_t::leader_and_isr_partition_error pe;
      pe.partition_index = ps.partition_index;
      pe.error_code = ec(err);
      te.partition_errors.push_back(std::move(pe));
    }
  }
  // Followers start (again) by truncating to where they agree with their leader.
  if (!unfollow.empty()) fetchers_->remove_partitions(unfollow);
  for (auto& [leader, parts] : follow) {
    cluster::source_broker src;
    if (auto l = leaders.find(leader); l != leaders.end()) {
      src = l->second;
    } else if (const auto* bi = b_->metadata().snapshot()->broker(leader); bi && !bi->endpoints.empty()) {
      src = {leader, bi->endpoints.front().host, static_cast<uint16_t>(bi->endpoints.front().port)};
    } else {
      STRATA_LOG_LIMITED(spdlog::level::warn, "LeaderAndIsr: no endpoint known for leader {}", leader);
      continue;
    }
    fetchers_->add_partitions(src, parts);
  }
  for (auto& [id, te] : by_topic) resp.topics.push_back(std::move(te));
  return resp;
}

protocol::update_metadata_response cluster_member::apply(const protocol::update_metadata_request& req, int16_t version) {
  protocol::update_metadata_response resp;
  resp.error_code = ec(error_code::none);
  if (auto stale = accept_controller(req.controller_epoch, req.broker_epoch); stale != error_code::none) {
    resp.error_code = ec(stale);
    return resp;
  }
  std::map<int32_t, cluster::broker_info> brokers;
  for (const auto& lb : req.live_brokers) {
    cluster::broker_info bi;
    bi.id = lb.id;
    if (version == 0) bi.endpoints.push_back({"PLAINTEXT", lb.v0_host, lb.v0_port});
    for (const auto& e : lb.endpoints)
      bi.endpoints.push_back({e.listener.empty() ? std::string("PLAINTEXT") : e.listener, e.host, e.port});
    if (lb.rack && !lb.rack->empty()) bi.rack = lb.rack;
    brokers[lb.id] = std::move(bi);
  }
  auto& cache = b_->metadata();
  cache.set_brokers(std::move(brokers), req.controller_id);

  struct topic_update {
    protocol::uuid id;
    std::map<int32_t, cluster::partition_info> parts;
    bool deleting = false;
  };
  std::map<std::string, topic_update> topics;
  auto take = [&](const std::string& name, const protocol::uuid& id,
                  const protocol::update_metadata_request::update_metadata_partition_state& ps) {
    auto& tu = topics[name];
    if (!id.is_zero()) tu.id = id;
    if (ps.leader == kLeaderDuringDelete) {
      tu.deleting = true;
      return;
    }
    cluster::partition_info pi;
    pi.leader = ps.leader;
    pi.leader_epoch = ps.leader_epoch;
    pi.replicas = ps.replicas;
    pi.isr = ps.isr;
    pi.offline_replicas = ps.offline_replicas;
    tu.parts[ps.partition_index] = std::move(pi);
  };
  for (const auto& ps : req.ungrouped_partition_states) take(ps.topic_name, {}, ps);
  for (const auto& ts : req.topic_states)
    for (const auto& ps : ts.partition_states) take(ts.topic_name, ts.topic_id, ps);
  for (auto& [name, tu] : topics) {
    if (tu.deleting) {
      cache.remove_topic(name);
      continue;
    }
    // A topic created through another broker: learn its configs and partition count.
    auto t = b_->topics().find(name);
    if (!t || static_cast<int32_t>(t->partitions.size()) <= tu.parts.rbegin()->first) t = b_->topics().refresh(name);
    protocol::uuid id = !tu.id.is_zero() ? tu.id : (t ? t->id : protocol::uuid{});
    cache.update_partitions(name, id, is_internal_topic(name), std::move(tu.parts));
  }
  return resp;
}

protocol::stop_replica_response cluster_member::apply(const protocol::stop_replica_request& req, int16_t version) {
  using resp_t = protocol::stop_replica_response;
  resp_t resp;
  resp.error_code = ec(error_code::none);
  if (auto stale = accept_controller(req.controller_epoch, req.broker_epoch); stale != error_code::none) {
    resp.error_code = ec(stale);
    return resp;
  }
  auto stop = [&](const std::string& topic, int32_t index, bool del) {
    if (topic == kOffsetsTopic) b_->groups().unload(index);
    fetchers_->remove_partitions({{topic, index}});
    b_->topics().drop_replica(topic, index, del);
    resp_t::stop_replica_partition_error pe;
    pe.topic_name = topic;
    pe.partition_index = index;
    pe.error_code = ec(error_code::none);
    resp.partition_errors.push_back(std::move(pe));
    if (del) spdlog::info("{}-{}: replica deleted (StopReplica)", topic, index);
  };
  for (const auto& p : req.ungrouped_partitions) stop(p.topic_name, p.partition_index, req.delete_partitions);
  for (const auto& t : req.topics)
    for (int32_t i : t.partition_indexes) stop(t.name, i, req.delete_partitions);
  for (const auto& ts : req.topic_states)
    for (const auto& ps : ts.partition_states) stop(ts.topic_name, ps.partition_index, ps.delete_partition);
  (void)version;
  return resp;
}

protocol::controlled_shutdown_response cluster_member::apply(const protocol::controlled_shutdown_request& req,
                                                             int16_t) {
  protocol::controlled_shutdown_response resp;
  if (!controller_) {
    resp.error_code = ec(error_code::not_controller);
    return resp;
  }
  auto r = controller_->controlled_shutdown(req.broker_id, req.broker_epoch);
  switch (r.error) {
    case controller::shutdown_error::none: resp.error_code = ec(error_code::none); break;
    case controller::shutdown_error::not_controller: resp.error_code = ec(error_code::not_controller); break;
    case controller::shutdown_error::broker_not_available:
      resp.error_code = ec(error_code::broker_not_available);
      break;
    case controller::shutdown_error::stale_broker_epoch: resp.error_code = ec(error_code::stale_broker_epoch); break;
    case controller::shutdown_error::timed_out: resp.error_code = ec(error_code::request_timed_out); break;
  }
  for (const auto& p : r.remaining_partitions) {
    protocol::controlled_shutdown_response::remaining_partition rp;
    rp.topic_name = p.topic;
    rp.partition_index = p.partition;
    resp.remaining_partitions.push_back(std::move(rp));
  }
  return resp;
}

int64_t cluster_member::max_follower_lag() const {
  int64_t lag = 0;
  if (fetchers_)
    for (const auto& s : fetchers_->fetch_states()) lag = std::max(lag, s.lag);
  return lag;
}

void cluster_member::on_isr_change(const std::shared_ptr<cluster::partition>& p,
                                   const cluster::partition_state& proposed) {
  writer_.run([this, p, next = proposed]() mutable {
    auto& proposed = next;
    zk::leader_and_isr s;
    s.leader = proposed.leader;
    s.leader_epoch = proposed.leader_epoch;
    s.controller_epoch = proposed.controller_epoch;
    s.isr = proposed.isr;
    s.partition_epoch = proposed.partition_epoch;
    auto r = kzk_->update_partition_state_conditional(p->topic(), p->index(), s);
    if (!r) {
      // The controller has moved on: its LeaderAndIsr brings the state to follow.
      STRATA_LOG_LIMITED(spdlog::level::warn, "{}-{}: ISR change to [{}] refused: {}", p->topic(), p->index(),
                         fmt::join(proposed.isr, ","), r.error().message());
      b_->replicas().isr_change_failed(*p);
      return;
    }
    proposed.partition_epoch = r.value();
    b_->replicas().isr_committed(*p, proposed, now_ms());
    spdlog::info("{}-{}: ISR is now [{}] (partition epoch {})", p->topic(), p->index(), fmt::join(proposed.isr, ","),
                 r.value());
    // The controller reads the new states and tells every broker (UpdateMetadata).
    if (auto n = kzk_->create_isr_change_notification({{p->topic(), p->index()}}); !n)
      STRATA_LOG_LIMITED(spdlog::level::warn, "writing an ISR change notification: {}", n.error().message());
  });
}

void cluster_member::tasks_loop() {
  using clock = std::chrono::steady_clock;
  auto steady_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch()).count();
  };
  // Kafka's isr-expiration task runs every replica.lag.time.max.ms / 2.
  const auto shrink_period =
      std::chrono::milliseconds(std::max<int64_t>(cfg_.get_int("replica.lag.time.max.ms") / 2, 1));
  // The leadership lease (replica_manager::extend_leadership_lease) is a third of the
  // session timeout, renewed every 100 ms. A gap longer than the lease between two
  // ticks means this process was paused (or starved): the lease then stays expired
  // until a ZooKeeper call shows the session is still ours, so a broker that slept
  // through its own expiry never writes as leader on waking.
  const int64_t lease_ms = std::max<int64_t>(cfg_.get_int("zookeeper.session.timeout.ms") / 3, 200);
  const std::string self = "/brokers/ids/" + std::to_string(cfg_.broker_id());
  auto next_shrink = clock::now() + shrink_period;
  auto next_config_watch = clock::now() + std::chrono::seconds(1);
  int64_t last_tick = steady_ms();
  int64_t session = zk_->session_id();
  bool suspect = false;  // paused: no lease until ZooKeeper has been heard from
  b_->replicas().extend_leadership_lease(last_tick + lease_ms);
  std::unique_lock lk(mu_);
  while (!cv_.wait_for(lk, std::chrono::milliseconds(100), [&] { return stopping_; })) {
    lk.unlock();
    const int64_t now = steady_ms();
    if (now - last_tick > lease_ms) {
      spdlog::warn("this broker was paused for {} ms: checking its ZooKeeper session before leading again",
                   now - last_tick);
      suspect = true;
    }
    if (suspect) {
      // Cleared once ZooKeeper answers: on the same session (it never expired, no one
      // else was elected), or on a new one (the old one expired, and the listener
      // resigned every leadership before the new session was announced).
      auto ours = zk_->exists(self);
      if (ours && ours.value()) {
        if (zk_->session_id() != session) spdlog::info("a new ZooKeeper session: leaderships come from the controller");
        session = zk_->session_id();
        suspect = false;
      }
    }
    if (!suspect) b_->replicas().extend_leadership_lease(now + lease_ms);
    last_tick = now;
    if (clock::now() >= next_shrink) {
      b_->replicas().shrink_isrs(now_ms());
      next_shrink = clock::now() + shrink_period;
    }
    if (!config_watch_armed_ && clock::now() >= next_config_watch) {
      config_worker_.run([this] { watch_config_changes(); });
      next_config_watch = clock::now() + std::chrono::seconds(1);
    }
    lk.lock();
  }
}

}  // namespace strata::broker
