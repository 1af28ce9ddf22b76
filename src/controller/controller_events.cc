// The controller's events: brokers coming and going, new topics and partitions,
// ISR change notifications, controlled shutdown, the preferred-leader check.
// Event thread only; each handler re-arms the one-shot watch that triggered it, and
// diffs ZooKeeper against the context, so a duplicate event does nothing.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "controller/controller.h"
#include "controller/zk_checks.h"

namespace strata::controller {

using namespace detail;

// ---- brokers ----------------------------------------------------------------------------

// Kafka's BrokerChange: new, dead and bounced (same id, new epoch) brokers.
void controller::on_broker_change() {
  if (!active_) return;
  auto ids = checked(kzk_.list_brokers(watcher("BrokerChange", [this] { on_broker_change(); })), "listing brokers");
  std::vector<zk::broker_registration> started;
  std::vector<int32_t> gone, bounced;
  for (int32_t id : ids) {
    auto reg = checked(kzk_.get_broker(id), "reading broker " + std::to_string(id));
    if (!reg) continue;  // gone again: the next BrokerChange tells
    auto it = ctx_.live_brokers.find(id);
    if (it == ctx_.live_brokers.end()) {
      started.push_back(*reg);
    } else if (it->second.broker_epoch != reg->broker_epoch) {
      bounced.push_back(id);
      started.push_back(*reg);
    }
  }
  for (const auto& [id, reg] : ctx_.live_brokers)
    if (!std::binary_search(ids.begin(), ids.end(), id)) gone.push_back(id);
  gone.insert(gone.end(), bounced.begin(), bounced.end());
  if (!gone.empty()) on_brokers_gone(gone);
  if (!started.empty()) on_brokers_started(started);
}

// Kafka's onBrokerFailure / onReplicasBecomeOffline.
void controller::on_brokers_gone(const std::vector<int32_t>& ids) {
  spdlog::info("controller: brokers gone: [{}]", fmt::join(ids, ","));
  std::set<partition_key> touched;
  for (int32_t id : ids) {
    ctx_.live_brokers.erase(id);
    ctx_.shutting_down.erase(id);
    ctx_.offline_replicas.erase(id);
    channel_->remove_broker(id);
    for (const auto& k : ctx_.partitions_on(id)) touched.insert(k);
  }
  // 1. Partitions whose leader is gone: offline election (leader epoch + 1).
  std::vector<partition_key> led;
  for (const auto& k : touched) {
    const auto* s = ctx_.state(k);
    if (s && std::find(ids.begin(), ids.end(), s->leader) != ids.end()) led.push_back(k);
  }
  request_batch batch = new_batch();
  add_leader_and_isr(batch, elect_leaders(led, election_kind::offline));
  // 2. The dead replicas leave the ISRs they are still in (OfflineReplica); where no
  //    election was possible this sets the leader to -1 and keeps the last ISR member.
  for (int32_t id : ids) {
    std::vector<partition_key> on(touched.begin(), touched.end());
    add_leader_and_isr(batch, remove_from_isr(on, id));
  }
  // 3. Every broker learns the new broker list and the offline replicas.
  batch.update_metadata(ctx_.live_or_shutting_down_ids(), std::vector<partition_key>(touched.begin(), touched.end()));
  send(batch);
}

// Kafka's onBrokerStartup.
void controller::on_brokers_started(const std::vector<zk::broker_registration>& regs) {
  std::vector<int32_t> ids;
  for (const auto& reg : regs) ids.push_back(reg.id);
  spdlog::info("controller: brokers registered: [{}]", fmt::join(ids, ","));
  const auto existing = ctx_.live_or_shutting_down_ids();
  for (const auto& reg : regs) {
    ctx_.live_brokers[reg.id] = reg;
    // A restarted broker reports its offline replicas again (LeaderAndIsr below).
    ctx_.offline_replicas.erase(reg.id);
    const auto* ep = inter_broker_endpoint(reg, cfg_.inter_broker_listener_name);
    if (!ep) {
      spdlog::warn("controller: broker {} has no endpoint on listener '{}'; it gets no requests", reg.id,
                   cfg_.inter_broker_listener_name);
      continue;
    }
    channel_->add_broker({reg.id, reg.broker_epoch, ep->host, ep->port});
  }
  // The others learn of the new brokers; the new ones get everything.
  request_batch um = new_batch();
  um.update_metadata(existing, {});
  um.update_metadata_all_partitions(ids);
  send(um);
  // Each new broker gets LeaderAndIsr for its replicas (OnlineReplica).
  request_batch lai = new_batch();
  for (int32_t id : ids)
    for (const auto& k : ctx_.partitions_on(id))
      if (!ctx_.being_deleted(k.topic) && ctx_.state(k)) lai.leader_and_isr({id}, k);
  send(lai);
  // Partitions that can come online now (their only eligible replica is back).
  request_batch elected = new_batch();
  trigger_online_partitions(elected);
  send(elected);
  for (int32_t id : ids) resume_deletions_on(id);
  // Moves waiting for these brokers (Kafka's onBrokerStartup: maybeResumeReassignments).
  resume_reassignments(ids);
}

// ---- topics -----------------------------------------------------------------------------

void controller::on_topic_change() {
  if (!active_) return;
  auto topics = checked(kzk_.list_topics(watcher("TopicChange", [this] { on_topic_change(); })), "listing topics");
  std::vector<partition_key> added;
  for (const auto& t : topics) {
    if (ctx_.topics.count(t)) continue;
    auto a = checked(kzk_.get_topic(t, watcher("PartitionModifications", [this, t] { on_topic_data_change(t); })),
                     "reading topic " + t);
    if (!a) continue;
    spdlog::info("controller: new topic {} ({} partitions)", t, a->partitions.size());
    ctx_.topics[t] = {a->topic_id, a->partitions, a->adding_replicas, a->removing_replicas};
    for (const auto& [p, r] : a->partitions) added.push_back({t, p});
  }
  // Topics whose znode went without a deletion by us.
  std::vector<std::string> vanished;
  for (const auto& [t, e] : ctx_.topics)
    if (!std::binary_search(topics.begin(), topics.end(), t)) vanished.push_back(t);
  for (const auto& t : vanished) ctx_.remove_topic(t);
  if (!added.empty()) on_new_partitions(added);
}

// The topic znode's data changed: partitions added (Kafka's PartitionModifications).
void controller::on_topic_data_change(const std::string& topic) {
  if (!active_ || !ctx_.topics.count(topic)) return;
  auto a = checked(kzk_.get_topic(topic, watcher("PartitionModifications",
                                                 [this, topic] { on_topic_data_change(topic); })),
                   "reading topic " + topic);
  if (!a) return;
  auto& entry = ctx_.topics[topic];
  std::vector<partition_key> added;
  for (const auto& [p, r] : a->partitions)
    if (!entry.partitions.count(p)) {
      entry.partitions[p] = r;
      added.push_back({topic, p});
    }
  // A changed replica list of an existing partition is ignored: reassignments go
  // through AlterPartitionReassignments or /admin/reassign_partitions, and the
  // controller's own writes of this znode land here too.
  if (added.empty()) return;
  spdlog::info("controller: topic {}: {} partitions added", topic, added.size());
  on_new_partitions(added);
}

// Kafka's onNewPartitionCreation: NewPartition -> OnlinePartition.
void controller::on_new_partitions(const std::vector<partition_key>& parts) {
  request_batch batch = new_batch();
  add_leader_and_isr(batch, initialize_partitions(parts), true);
  send(batch);
}

// ---- ISR change notifications -------------------------------------------------------------

void controller::on_isr_change_notification() {
  if (!active_) return;
  auto names = checked(kzk_.list_isr_change_notifications(
                           watcher("IsrChangeNotification", [this] { on_isr_change_notification(); })),
                       "listing ISR change notifications");
  if (names.empty()) return;
  std::set<partition_key> changed;
  for (const auto& n : names) {
    auto tps = kzk_.get_isr_change_notification(n);
    if (!tps) {
      if (tps.error() == zk::errc::no_node) continue;
      fail(tps.error(), "reading ISR change notification " + n);
    }
    for (const auto& tp : tps.value()) changed.insert({tp.topic, tp.partition});
  }
  std::vector<partition_key> updated;
  for (const auto& k : changed) {
    if (!ctx_.topics.count(k.topic) || ctx_.being_deleted(k.topic)) continue;
    auto s = checked(kzk_.get_partition_state(k.topic, k.partition), "reading the state of " + to_string(k));
    if (!s) continue;
    ctx_.states[k] = *s;
    updated.push_back(k);
  }
  request_batch batch = new_batch();
  batch.update_metadata(ctx_.live_or_shutting_down_ids(), updated);
  if (!updated.empty()) send(batch);
  checked(kzk_.delete_isr_change_notifications(names, token_), "deleting ISR change notifications");
  for (const auto& k : updated)
    if (ctx_.assignment(k).being_reassigned()) maybe_complete_reassignment(k);
}

// ---- log dir failures (KIP-112) ---------------------------------------------------------------

// Kafka's LogDirEventNotification handling: every broker named gets LeaderAndIsr for all
// its replicas; its answers (KAFKA_STORAGE_ERROR per offline replica) come back as
// on_replicas_offline.
void controller::on_log_dir_event_notification() {
  if (!active_) return;
  auto names = checked(kzk_.list_log_dir_event_notifications(
                           watcher("LogDirEventNotification", [this] { on_log_dir_event_notification(); })),
                       "listing log dir event notifications");
  if (names.empty()) return;
  std::set<int32_t> brokers;
  for (const auto& n : names) {
    auto id = kzk_.get_log_dir_event_notification(n);
    if (!id) {
      if (id.error() == zk::errc::no_node) continue;
      // A malformed notification is dropped (Kafka logs and skips it too).
      spdlog::warn("controller: ignoring log dir event {}: {}", n, id.error().message());
      continue;
    }
    brokers.insert(id.value());
  }
  request_batch lai = new_batch();
  for (int32_t id : brokers) {
    if (!ctx_.is_live_or_shutting_down(id)) continue;
    spdlog::info("controller: broker {} reports a failed log directory", id);
    for (const auto& k : ctx_.partitions_on(id))
      if (!ctx_.being_deleted(k.topic) && ctx_.state(k)) lai.leader_and_isr({id}, k);
  }
  send(lai);
  checked(kzk_.delete_log_dir_event_notifications(names, token_), "deleting log dir event notifications");
}

void controller::on_replicas_offline(int32_t broker, const std::vector<partition_key>& parts) {
  if (!ctx_.is_live_or_shutting_down(broker)) return;  // gone since: on_brokers_gone handled it
  auto& known = ctx_.offline_replicas[broker];
  std::vector<partition_key> fresh;
  for (const auto& k : parts)
    if (ctx_.topics.count(k.topic) && known.insert(k).second) fresh.push_back(k);
  if (fresh.empty()) return;
  spdlog::warn("controller: {} replica(s) on broker {} are offline (failed log dir): {}{}", fresh.size(), broker,
               to_string(fresh.front()), fresh.size() > 1 ? ", ..." : "");
  // 1. Partitions it led: offline election among the other replicas.
  std::vector<partition_key> led;
  for (const auto& k : fresh)
    if (const auto* st = ctx_.state(k); st && st->leader == broker) led.push_back(k);
  request_batch batch = new_batch();
  add_leader_and_isr(batch, elect_leaders(led, election_kind::offline));
  // 2. It leaves the ISRs (leader -1 where nobody else could take over).
  add_leader_and_isr(batch, remove_from_isr(fresh, broker));
  // 3. Every broker learns the offline replicas.
  batch.update_metadata(ctx_.live_or_shutting_down_ids(), fresh);
  send(batch);
}

// ---- controlled shutdown ------------------------------------------------------------------

// Kafka's doControlledShutdown.
controlled_shutdown_result controller::do_controlled_shutdown(int32_t id, int64_t broker_epoch) {
  controlled_shutdown_result res;
  if (!active_) {
    res.error = shutdown_error::not_controller;
    return res;
  }
  if (!ctx_.live_brokers.count(id)) {
    res.error = shutdown_error::broker_not_available;
    return res;
  }
  if (broker_epoch != -1 && broker_epoch < ctx_.broker_epoch(id)) {
    res.error = shutdown_error::stale_broker_epoch;
    return res;
  }
  ctx_.shutting_down.insert(id);
  spdlog::info("controller: broker {} is shutting down (controlled)", id);
  std::vector<partition_key> led, followed;
  for (const auto& k : ctx_.partitions_on(id)) {
    const auto* s = ctx_.state(k);
    // A partition without other replicas has nowhere to go.
    if (!s || ctx_.replicas(k).size() <= 1 || ctx_.being_deleted(k.topic)) continue;
    (s->leader == id ? led : followed).push_back(k);
  }
  request_batch batch = new_batch();
  add_leader_and_isr(batch, elect_leaders(led, election_kind::controlled_shutdown));
  // Where it follows: it leaves the ISR and stops fetching (StopReplica, no delete).
  add_leader_and_isr(batch, remove_from_isr(followed, id));
  for (const auto& k : followed) batch.stop_replica(id, k, false);
  send(batch);
  for (const auto& k : ctx_.partitions_on(id)) {
    const auto* s = ctx_.state(k);
    if (s && s->leader == id && ctx_.replicas(k).size() > 1) res.remaining_partitions.push_back(k);
  }
  return res;
}

// ---- preferred leaders --------------------------------------------------------------------

void controller::on_preferred_leader_check(uint64_t generation) {
  if (!active_ || generation != generation_) return;  // a check of an earlier term
  check_preferred_leaders();
  queue_->schedule("AutoPreferredReplicaLeaderElection",
                   event_queue::clock::now() + cfg_.leader_imbalance_check_interval,
                   [this, generation] { on_preferred_leader_check(generation); });
}

// Kafka's checkAndTriggerAutoLeaderRebalance: per preferred broker, when the share
// of its partitions led by another broker exceeds
// leader.imbalance.per.broker.percentage, move back those whose preferred replica is
// live and in the ISR.
void controller::check_preferred_leaders() {
  std::map<int32_t, std::vector<partition_key>> not_led_by_preferred;
  std::map<int32_t, int> total;
  for (const auto& k : ctx_.all_partitions()) {
    const auto& replicas = ctx_.replicas(k);
    const auto* s = ctx_.state(k);
    if (replicas.empty() || !s || ctx_.being_deleted(k.topic)) continue;
    const int32_t preferred = replicas.front();
    ++total[preferred];
    if (s->leader != preferred) not_led_by_preferred[preferred].push_back(k);
  }
  std::vector<partition_key> candidates;
  for (const auto& [b, parts] : not_led_by_preferred) {
    const double ratio = static_cast<double>(parts.size()) / total[b];
    if (ratio * 100 <= cfg_.leader_imbalance_per_broker_percentage || !ctx_.is_live(b)) continue;
    for (const auto& k : parts) {
      const auto& isr = ctx_.state(k)->isr;
      if (std::find(isr.begin(), isr.end(), b) != isr.end()) candidates.push_back(k);
    }
  }
  if (candidates.empty()) return;
  request_batch batch = new_batch();
  add_leader_and_isr(batch, elect_leaders(candidates, election_kind::preferred));
  send(batch);
}

}  // namespace strata::controller
