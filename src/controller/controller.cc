// The controller's lifecycle: election, failover, resignation, the event loop.
#include "controller/controller.h"
#include "protocol/generated/error_code.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <set>

#include "controller/zk_checks.h"

namespace strata::controller {

using namespace detail;

const char* to_string(shutdown_error e) {
  switch (e) {
    case shutdown_error::none: return "none";
    case shutdown_error::not_controller: return "not the controller";
    case shutdown_error::broker_not_available: return "broker not registered";
    case shutdown_error::stale_broker_epoch: return "stale broker epoch";
    case shutdown_error::timed_out: return "timed out";
  }
  return "?";
}

controller::controller(zk::client& zk, controller_config cfg, sender_factory senders)
    : zk_(zk), kzk_(zk), cfg_(std::move(cfg)),
      channel_(std::make_unique<controller_channel>(std::move(senders), cfg_.channel)) {}

controller::~controller() { stop(); }

void controller::start() {
  if (started_.exchange(true)) return;
  std::weak_ptr<event_queue> wq = queue_;
  listener_id_ = zk_.add_session_listener([this, wq](zk::session_state s) {
    auto q = wq.lock();
    if (!q) return;
    if (s == zk::session_state::expired) {
      // Every watch and our /controller are gone with the session: stop acting now.
      q->push("SessionExpired", [this] {
        if (active_) spdlog::warn("controller: ZooKeeper session expired; resigning");
        resign(false);
      });
    } else if (s == zk::session_state::new_session) {
      q->push("Reelect", [this] { elect(); });
    }
  });
  push("Startup", [this] { elect(); });
  thread_ = std::thread([this] { run(); });
}

void controller::stop() {
  if (!started_.load() || stopped_.exchange(true)) return;
  if (listener_id_ >= 0) zk_.remove_session_listener(listener_id_);
  queue_->close();
  if (thread_.joinable()) thread_.join();
  // The event thread is gone: the context is ours to resign from here.
  resign(true);
}

void controller::push(std::string name, std::function<void()> fn) { queue_->push(std::move(name), std::move(fn)); }

zk::watch_fn controller::watcher(std::string name, std::function<void()> handler) {
  std::weak_ptr<event_queue> wq = queue_;
  return [wq, name = std::move(name), handler = std::move(handler)](zk::watch_event, const std::string&) {
    if (auto q = wq.lock()) q->push(name, handler);
  };
}

void controller::run() {
  event_queue::event ev;
  while (queue_->next(ev)) {
    dispatch(ev);
    events_.fetch_add(1);
  }
}

void controller::dispatch(event_queue::event& ev) {
  try {
    ev.run();
  } catch (const fenced_error& e) {
    // Kafka's ControllerMovedException: a newer controller owns the cluster.
    spdlog::warn("controller: {}: a newer controller was elected ({}); resigning", ev.name, e.what());
    resign(false);
    push("Reelect", [this] { elect(); });
  } catch (const zk_failure& e) {
    spdlog::warn("controller: {}: ZooKeeper failed ({}); resigning and re-entering the election", ev.name,
                 e.what());
    resign(true);
    schedule_elect();
  } catch (const std::exception& e) {
    spdlog::error("controller: {} failed: {}", ev.name, e.what());
  }
  update_metrics();
}

void controller::update_metrics() {
  offline_ = active_ ? ctx_.offline_partition_count() : 0;
}

void controller::schedule_elect() {
  queue_->schedule("Reelect", event_queue::clock::now() + cfg_.election_retry_backoff, [this] { elect(); });
}

// Kafka's KafkaController.elect: watch /controller, and if nobody holds it, race
// for it.
void controller::elect() {
  if (active_) return;
  try {
    auto cur = checked(kzk_.get_controller(watcher("ControllerChange", [this] { on_controller_change(); })),
                       "reading /controller");
    if (cur) {
      active_id_ = cur->broker_id;
      if (cur->broker_id != cfg_.broker_id) return;  // another broker leads; the watch tells us when it goes
      // /controller names our id but we do not act as controller. If this session
      // holds it (we resigned after a failed write while the session lived on), give
      // it up and race again. If an earlier session of this broker id holds it (a
      // quick restart), it goes when that session expires: the watch tells us.
      auto st = checked(zk_.exists(zk::paths::controller), "reading /controller");
      if (st && st->ephemeral_owner == zk_.session_id()) {
        auto r = zk_.remove(zk::paths::controller, st->version);
        if (!r && !(r.error() == zk::errc::no_node)) fail(r.error(), "removing our stale /controller");
        push("Reelect", [this] { elect(); });
      }
      return;
    }
    auto e = checked(kzk_.try_elect_controller(cfg_.broker_id), "controller election");
    epoch_ = e.epoch.epoch;
    active_id_ = e.controller_id;
    if (!e.elected) {
      spdlog::info("controller: broker {} is the controller (epoch {})", e.controller_id, e.epoch.epoch);
      return;
    }
    on_became_active(e);
  } catch (const fenced_error&) {
    throw;  // an election never fences; keep the dispatcher's handling
  } catch (const zk_failure& e) {
    if (active_) throw;  // failover failed half-way: resign (dispatch), then retry
    spdlog::warn("controller: election failed ({}); retrying", e.what());
    schedule_elect();
  }
}

// The exists-watch on /controller fired (created or deleted).
void controller::on_controller_change() {
  if (active_) {
    auto cur = checked(kzk_.get_controller(), "reading /controller");
    if (cur && cur->broker_id == cfg_.broker_id) {
      // Still ours; re-arm the watch.
      checked(kzk_.get_controller(watcher("ControllerChange", [this] { on_controller_change(); })),
              "reading /controller");
      return;
    }
    spdlog::warn("controller: /controller is now {}; resigning", cur ? std::to_string(cur->broker_id) : "gone");
    resign(false);
  }
  elect();
}

// Kafka's onControllerFailover.
void controller::on_became_active(const zk::election& e) {
  ctx_.clear();
  ++generation_;
  epoch_ = e.epoch.epoch;
  token_ = e.epoch.zk_version;
  active_id_ = cfg_.broker_id;
  active_ = true;
  spdlog::info("controller: broker {} is now the controller (epoch {})", cfg_.broker_id, e.epoch.epoch);

  // Notifications pending now are covered by the full UpdateMetadata below.
  auto isr_changes = checked(kzk_.list_isr_change_notifications(
                                 watcher("IsrChangeNotification", [this] { on_isr_change_notification(); })),
                             "listing ISR change notifications");

  // Log dir failures pending now are covered by the LeaderAndIsr to every broker below
  // (the answers name the offline replicas).
  auto dir_events = checked(kzk_.list_log_dir_event_notifications(
                                watcher("LogDirEventNotification", [this] { on_log_dir_event_notification(); })),
                            "listing log dir event notifications");

  auto ids = checked(kzk_.list_brokers(watcher("BrokerChange", [this] { on_broker_change(); })), "listing brokers");
  for (int32_t id : ids) {
    auto reg = checked(kzk_.get_broker(id), "reading broker " + std::to_string(id));
    if (reg) ctx_.live_brokers[id] = *reg;
  }
  auto topics = checked(kzk_.list_topics(watcher("TopicChange", [this] { on_topic_change(); })), "listing topics");
  for (const auto& t : topics) {
    auto a = checked(kzk_.get_topic(t, watcher("PartitionModifications", [this, t] { on_topic_data_change(t); })),
                     "reading topic " + t);
    if (!a) continue;
    ctx_.topics[t] = {a->topic_id, a->partitions, a->adding_replicas, a->removing_replicas};
    for (const auto& [p, replicas] : a->partitions) {
      auto s = checked(kzk_.get_partition_state(t, p), "reading the state of " + t + "-" + std::to_string(p));
      if (s) ctx_.states[{t, p}] = *s;
    }
  }
  if (!isr_changes.empty())
    checked(kzk_.delete_isr_change_notifications(isr_changes, token_), "deleting ISR change notifications");
  if (!dir_events.empty())
    checked(kzk_.delete_log_dir_event_notifications(dir_events, token_), "deleting log dir event notifications");

  for (const auto& [id, reg] : ctx_.live_brokers) {
    const auto* ep = inter_broker_endpoint(reg, cfg_.inter_broker_listener_name);
    if (!ep) {
      spdlog::warn("controller: broker {} has no endpoint on listener '{}'; it gets no requests", id,
                   cfg_.inter_broker_listener_name);
      continue;
    }
    channel_->add_broker({id, reg.broker_epoch, ep->host, ep->port});
  }

  // Topics queued for deletion are not elected for (Kafka's ineligible topics).
  auto deletions = checked(kzk_.list_topic_deletions(), "listing topic deletions");
  for (const auto& t : deletions)
    if (ctx_.topics.count(t)) ctx_.deletions[t];

  // Elections first, so that the first requests already carry the new leaders.
  request_batch elected = new_batch();  // superseded by the full requests below
  const auto initialized = trigger_online_partitions(elected);
  // Kafka's ReplicaStateMachine.startup: replicas on brokers that are not alive are
  // offline and leave the ISRs they are still in. A broker that died while there was
  // no controller (the old controller died with it) would otherwise stay in sync for
  // good: a follower whose log end equals the leader's is never shrunk by its leader.
  std::set<int32_t> dead;
  for (const auto& k : ctx_.all_partitions())
    if (const auto* s = ctx_.state(k))
      for (int32_t id : s->isr)
        if (!ctx_.live_brokers.count(id)) dead.insert(id);
  for (int32_t id : dead) {
    auto on = ctx_.partitions_on(id);
    add_leader_and_isr(elected, remove_from_isr(on, id));
  }
  if (!dead.empty()) spdlog::info("controller: replicas on brokers [{}] are offline", fmt::join(dead, ","));

  // UpdateMetadata first: a broker needs the leaders' endpoints before it follows.
  request_batch um = new_batch();
  um.update_metadata_all_partitions(ctx_.live_or_shutting_down_ids());
  send(um);
  request_batch lai = new_batch();
  for (const auto& k : ctx_.all_partitions())
    if (!ctx_.being_deleted(k.topic))
      lai.leader_and_isr(ctx_.replicas(k), k,
                         std::find(initialized.begin(), initialized.end(), k) != initialized.end());
  send(lai);

  // Deletions: restart them all (the pending set is rebuilt; StopReplica is idempotent).
  for (auto& t : deletions) ctx_.deletions.erase(t);
  on_topic_deletion_requests();

  // Reassignments (Kafka's initializePartitionReassignments): those
  // /admin/reassign_partitions asks for, then the moves the topic znodes record.
  resume_reassignments({}, on_reassign_partitions_znode());

  if (cfg_.auto_leader_rebalance_enable) {
    const uint64_t gen = generation_;
    queue_->schedule("AutoPreferredReplicaLeaderElection",
                     event_queue::clock::now() + cfg_.leader_imbalance_check_interval,
                     [this, gen] { on_preferred_leader_check(gen); });
  }
  spdlog::info("controller: loaded {} brokers, {} topics, {} partitions ({} offline)", ctx_.live_brokers.size(),
               ctx_.topics.size(), ctx_.all_partitions().size(), ctx_.offline_partition_count());
}

// Kafka's onControllerResignation (plus giving up /controller when asked).
void controller::resign(bool give_up_znode) {
  const bool was_active = active_.exchange(false);
  ++generation_;
  channel_->remove_all();
  ctx_.clear();
  offline_ = 0;
  if (!was_active) return;
  spdlog::info("controller: broker {} resigned as controller (epoch {})", cfg_.broker_id, epoch_.load());
  if (give_up_znode) {
    // Fenced: a newer controller's /controller is never touched.
    if (auto r = kzk_.resign_controller(token_); !r)
      spdlog::debug("controller: giving up /controller: {}", r.error().message());
  }
  token_ = -1;
}

request_batch controller::new_batch() const {
  return request_batch(ctx_, cfg_.broker_id, epoch_.load(), cfg_.inter_broker_listener_name);
}

void controller::send(request_batch& batch) {
  std::weak_ptr<event_queue> wq = queue_;
  batch.send([&](int32_t broker, controller_request req) {
    response_callback cb;
    if (auto* lr = std::get_if<protocol::leader_and_isr_request>(&req)) {
      // KIP-112: replicas answered with KAFKA_STORAGE_ERROR are on a failed log dir.
      std::map<protocol::uuid, std::string> names;
      for (const auto& ts : lr->topic_states) names[ts.topic_id] = ts.topic_name;
      const uint64_t gen = generation_;
      cb = [this, wq, broker, gen, names = std::move(names)](const controller_response& resp) {
        const auto* r = std::get_if<protocol::leader_and_isr_response>(&resp);
        if (!r) return;
        constexpr auto kStorage = static_cast<int16_t>(protocol::error_code::kafka_storage_error);
        std::vector<partition_key> offline;
        for (const auto& pe : r->partition_errors)
          if (pe.error_code == kStorage) offline.push_back({pe.topic_name, pe.partition_index});
        for (const auto& te : r->topics) {
          auto n = names.find(te.topic_id);
          if (n == names.end()) continue;
          for (const auto& pe : te.partition_errors)
            if (pe.error_code == kStorage) offline.push_back({n->second, pe.partition_index});
        }
        if (offline.empty()) return;
        auto q = wq.lock();
        if (!q) return;
        q->push("LeaderAndIsrResponseReceived", [this, broker, gen, offline = std::move(offline)] {
          if (gen == generation_ && active_) on_replicas_offline(broker, offline);
        });
      };
    } else if (auto* sr = std::get_if<protocol::stop_replica_request>(&req); sr && sr->delete_partitions) {
      const uint64_t gen = generation_;
      cb = [this, wq, broker, gen](const controller_response& resp) {
        auto q = wq.lock();
        if (!q) return;
        const auto* r = std::get_if<protocol::stop_replica_response>(&resp);
        if (!r) return;
        q->push("TopicDeletionStopReplicaResponseReceived", [this, broker, gen, r = *r] {
          if (gen == generation_) on_stop_replica_response(broker, r);
        });
      };
    }
    channel_->send(broker, std::move(req), std::move(cb));
  });
}

template <class T>
std::optional<T> controller::call_on_thread(std::function<T()> fn) {
  auto done = std::make_shared<std::promise<T>>();
  auto fut = done->get_future();
  // An exception reaches both the caller and the dispatcher (which resigns on a
  // ZooKeeper failure).
  auto ev = [fn = std::move(fn), done] {
    try {
      done->set_value(fn());
    } catch (...) {
      done->set_exception(std::current_exception());
      throw;
    }
  };
  if (!queue_->push("Call", std::move(ev))) return std::nullopt;
  if (fut.wait_for(cfg_.call_timeout) != std::future_status::ready) return std::nullopt;
  try {
    return fut.get();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

controller_snapshot controller::snapshot() {
  auto s = call_on_thread<controller_snapshot>([this] {
    if (!active_) {
      controller_snapshot none;
      none.controller_id = active_id_;
      none.controller_epoch = epoch_;
      return none;
    }
    auto s = ctx_.snapshot();
    s.active = true;
    s.controller_id = cfg_.broker_id;
    s.controller_epoch = epoch_;
    return s;
  });
  if (s) return *s;
  controller_snapshot none;
  none.controller_id = active_id_;
  none.controller_epoch = epoch_;
  return none;
}

controlled_shutdown_result controller::controlled_shutdown(int32_t broker_id, int64_t broker_epoch) {
  const auto deadline = std::chrono::steady_clock::now() + cfg_.call_timeout;
  auto r = call_on_thread<controlled_shutdown_result>(
      [this, broker_id, broker_epoch] { return do_controlled_shutdown(broker_id, broker_epoch); });
  if (r) return *r;
  // Queue closed, a ZooKeeper failure (the controller resigned: not the controller
  // any more), or the wait ran out.
  controlled_shutdown_result failed;
  failed.error = stopped_ || std::chrono::steady_clock::now() < deadline ? shutdown_error::not_controller
                                                                         : shutdown_error::timed_out;
  return failed;
}

std::vector<election_result> controller::elect_leaders(election_type type,
                                                       const std::optional<std::vector<partition_key>>& parts) {
  auto r = call_on_thread<std::vector<election_result>>([this, type, parts] { return do_elect_leaders(type, parts); });
  if (r) return *r;
  // The queue closed or a ZooKeeper failure made the controller resign: not the
  // controller any more. Else the wait ran out.
  const election_error err = stopped_ || !active_ ? election_error::not_controller : election_error::timed_out;
  std::vector<election_result> out;
  if (parts)
    for (const auto& k : *parts) out.push_back({k, err});
  return out;
}

alter_reassignments_result controller::alter_reassignments(std::vector<reassignment_request> reqs) {
  const auto deadline = std::chrono::steady_clock::now() + cfg_.call_timeout;
  auto r = call_on_thread<alter_reassignments_result>(
      [this, reqs = std::move(reqs)] { return do_alter_reassignments(reqs); });
  if (r) return *r;
  alter_reassignments_result failed;
  failed.error = stopped_ || std::chrono::steady_clock::now() < deadline ? reassign_error::not_controller
                                                                         : reassign_error::timed_out;
  return failed;
}

list_reassignments_result controller::list_reassignments(std::optional<std::vector<partition_key>> filter) {
  const auto deadline = std::chrono::steady_clock::now() + cfg_.call_timeout;
  auto r = call_on_thread<list_reassignments_result>(
      [this, filter = std::move(filter)] { return do_list_reassignments(filter); });
  if (r) return *r;
  list_reassignments_result failed;
  failed.error = stopped_ || std::chrono::steady_clock::now() < deadline ? reassign_error::not_controller
                                                                         : reassign_error::timed_out;
  return failed;
}

void controller::trigger_preferred_leader_check() {
  push("PreferredReplicaLeaderElection", [this] {
    if (active_) check_preferred_leaders();
  });
}

}  // namespace strata::controller
